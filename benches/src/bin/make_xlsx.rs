//! Writes an Excel workbook of N cases for the benchmark of reading .xlsx
//! (scripts/bench-xlsx.sh): the 1.1 national cases repeated with new ids,
//! under Chinese headers with one column per diagnosis and procedure, as a
//! hospital's 结算清单 export holds them.
//!
//!     make_xlsx CASES.csv ROWS OUT.xlsx

use drg_core::xlsx::XlsxWriter;

const DX: usize = 10;
const PX: usize = 8;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, cases, rows, out] = &args[..] else {
        eprintln!("usage: make_xlsx CASES.csv ROWS OUT.xlsx");
        std::process::exit(2);
    };
    let rows: usize = rows.parse().expect("ROWS");
    let mut reader = csv::Reader::from_path(cases).expect("cases");
    let headers = reader.headers().expect("header").clone();
    let col = |n: &str| headers.iter().position(|h| h == n).expect("column");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    let mut header: Vec<String> =
        ["病案号", "医疗机构编码", "医院等级", "性别", "年龄（岁）", "年龄（天）", "新生儿出生体重（克）", "实际住院天数", "离院方式", "住院总费用", "个人负担金额", "主要诊断编码"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    header.extend((1..DX).map(|n| format!("其他诊断编码{n}")));
    header.extend((1..=PX).map(|n| format!("手术操作编码{n}")));
    let mut writer = XlsxWriter::new("结算清单", &header).expect("workbook");
    let fields = ["hospital", "hospital_level", "sex", "age_years", "age_days", "weight_g", "los_days", "discharge", "total_cost", "self_pay"].map(col);
    let (dx, px, id) = (col("diagnoses"), col("procedures"), col("id"));
    for i in 0..rows {
        let r = &records[i % records.len()];
        let mut cells: Vec<String> = vec![format!("{}-{}", &r[id], i / records.len())];
        cells.extend(fields.iter().map(|&f| r[f].to_string()));
        let d: Vec<&str> = r[dx].split('|').collect();
        cells.extend((0..DX).map(|k| d.get(k).copied().unwrap_or("").to_string()));
        let p: Vec<&str> = r[px].split('|').filter(|c| !c.is_empty()).collect();
        cells.extend((0..PX).map(|k| p.get(k).copied().unwrap_or("").to_string()));
        writer.write_row(&cells).expect("row");
    }
    writer.save(std::path::Path::new(out)).expect("save");
}
