//! Case files in the shapes hospitals export (specs/columns.md), built at
//! test time from the shared test data: the value spellings of HIS exports,
//! and whole tables rewritten as an .xlsx with Chinese headers and wide code
//! columns, or as a GBK CSV with the 病案首页 field codes, thousands
//! separators and units. Columns no field names (`status`, `drg`) keep
//! their names.

use std::path::Path;

/// The codes of a `|`-separated list.
pub fn codes(s: &str) -> Vec<&str> {
    s.split('|').filter(|c| !c.is_empty()).collect()
}

/// 性别 as exports write it.
pub fn sex_name(s: &str) -> &str {
    match s {
        "1" => "男",
        "2" => "女",
        other => other,
    }
}

/// 离院方式 as exports write it.
pub fn discharge_name(s: &str) -> &str {
    match s {
        "1" => "医嘱离院",
        "2" => "医嘱转院",
        "3" => "医嘱转社区卫生服务机构/乡镇卫生院",
        "4" => "非医嘱离院",
        "5" => "死亡",
        "9" => "其他",
        other => other,
    }
}

/// 医院等级 as exports write it.
pub fn level_name(s: &str) -> &str {
    match s {
        "1" => "一级",
        "2" => "二级乙等",
        "3" => "三级甲等",
        other => other,
    }
}

/// `68226.06` → `68,226.06`.
pub fn thousands(s: &str) -> String {
    let (whole, frac) = s.split_once('.').map_or((s, None), |(w, f)| (w, Some(f)));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_string();
    }
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// `5` → `5天`; empty stays empty.
pub fn with_unit(s: &str, unit: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("{s}{unit}")
    }
}

/// `2025-03-01` → `2025年3月1日`.
pub fn chinese_date(s: &str) -> String {
    let parts: Vec<&str> = s.split('-').collect();
    match parts[..] {
        [y, m, d] => format!("{y}年{}月{}日", m.trim_start_matches('0'), d.trim_start_matches('0')),
        _ => s.to_string(),
    }
}

/// A CSV text of `header` and `rows`.
pub fn write_csv(header: &[String], rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(&r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// A case file as read: its header and rows of text.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        Table { header, rows }
    }

    /// The most codes a row has in `column` (0 without the column).
    fn widest(&self, column: &str) -> usize {
        let Some(c) = self.header.iter().position(|h| h == column) else { return 0 };
        self.rows.iter().map(|r| codes(&r[c]).len()).max().unwrap_or(0).max(1)
    }
}

/// How an export names and spells the columns of cases.md.
struct Shape {
    /// The header of a one-value column (`None`: kept under its name).
    header: fn(&str) -> Option<&'static str>,
    /// A value as the export spells it, by its cases.md column.
    value: fn(&str, &str) -> String,
    /// The header of the n-th diagnosis and procedure column (from 0).
    diagnosis: fn(usize) -> String,
    procedure: fn(usize) -> String,
}

/// The header and rows of `table` in `shape`, and which output columns
/// hold numbers (for number cells).
fn reshape(table: &Table, shape: &Shape) -> (Vec<String>, Vec<Vec<String>>, Vec<bool>) {
    let (n_dx, n_px) = (table.widest("diagnoses"), table.widest("procedures"));
    let mut header = Vec::new();
    let mut numeric = Vec::new();
    for name in &table.header {
        match name.as_str() {
            "diagnoses" => header.extend((0..n_dx).map(shape.diagnosis)),
            "procedures" => header.extend((0..n_px).map(shape.procedure)),
            other => header.push((shape.header)(other).map_or(other.to_string(), str::to_string)),
        }
        let width = match name.as_str() {
            "diagnoses" => n_dx,
            "procedures" => n_px,
            _ => 1,
        };
        let number = matches!(name.as_str(), "age_years" | "age_days" | "weight_g" | "los_days" | "total_cost" | "self_pay");
        numeric.extend(std::iter::repeat_n(number, width));
    }
    let rows = table
        .rows
        .iter()
        .map(|row| {
            let mut out = Vec::with_capacity(header.len());
            for (name, value) in table.header.iter().zip(row) {
                match name.as_str() {
                    "diagnoses" | "procedures" => {
                        let list = codes(value);
                        let n = if name == "diagnoses" { n_dx } else { n_px };
                        out.extend((0..n).map(|i| list.get(i).copied().unwrap_or("").to_string()));
                    }
                    other => out.push((shape.value)(other, value)),
                }
            }
            out
        })
        .collect();
    (header, rows, numeric)
}

/// `table` as an .xlsx export: Chinese headers, one column per diagnosis
/// and procedure (主要诊断编码, 其他诊断编码N…), 性别 as 男/女, 医院等级 and
/// 离院方式 by name, numbers in number cells, on a sheet named 结算清单.
pub fn xlsx_export(table: &Table, path: &Path) {
    let shape = Shape {
        header: |name| {
            Some(match name {
                "id" => "病案号",
                "hospital" => "医疗机构编码",
                "hospital_level" => "医院等级",
                "sex" => "性别",
                "age_years" => "年龄（岁）",
                "age_days" => "年龄（天）",
                "weight_g" => "新生儿出生体重（克）",
                "los_days" => "实际住院天数",
                "discharge" => "离院方式",
                "dept" => "出院科别",
                "total_cost" => "住院总费用",
                "self_pay" => "个人负担金额",
                "discharge_date" => "出院日期",
                _ => return None,
            })
        },
        value: |name, v| match name {
            "sex" => sex_name(v).to_string(),
            "hospital_level" => level_name(v).to_string(),
            "discharge" => discharge_name(v).to_string(),
            _ => v.to_string(),
        },
        diagnosis: |n| if n == 0 { "主要诊断编码".into() } else { format!("其他诊断编码{n}") },
        procedure: |n| if n == 0 { "主要手术操作编码".into() } else { format!("其他手术操作编码{n}") },
    };
    let (header, rows, numeric) = reshape(table, &shape);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory();
    ws.set_name("结算清单").unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (r, cells) in rows.iter().enumerate() {
        for (c, v) in cells.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            match v.parse::<f64>() {
                Ok(x) if numeric[c] => ws.write_number(r as u32 + 1, c as u16, x).map(|_| ()),
                _ => ws.write_string(r as u32 + 1, c as u16, v).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(path).unwrap();
}

/// `table` as a GBK CSV export with the 病案首页 field codes (BAH, XB, JBDM,
/// JBDMn, SSJCZBMn…), costs with thousands separators, stays and ages with
/// their units, dates written 2025年3月1日.
pub fn gbk_front_page_export(table: &Table, path: &Path) {
    let shape = Shape {
        header: |name| {
            Some(match name {
                "id" => "BAH",
                "hospital" => "医疗机构代码",
                "hospital_level" => "医疗机构等级",
                "sex" => "XB",
                "age_years" => "NL",
                "age_days" => "年龄不足1周岁的年龄(天)",
                "weight_g" => "XSECSTZ",
                "los_days" => "SJZYTS",
                "discharge" => "LYFS",
                "dept" => "CYKB",
                "total_cost" => "ZFY",
                "self_pay" => "个人负担",
                "discharge_date" => "CYSJ",
                _ => return None,
            })
        },
        value: |name, v| match name {
            "sex" => sex_name(v).to_string(),
            "age_years" => with_unit(v, "岁"),
            "age_days" | "los_days" => with_unit(v, "天"),
            "weight_g" => with_unit(v, "克"),
            "total_cost" => thousands(v),
            "self_pay" => with_unit(&thousands(v), "元"),
            "discharge_date" => chinese_date(v),
            _ => v.to_string(),
        },
        diagnosis: |n| if n == 0 { "JBDM".into() } else { format!("JBDM{n}") },
        procedure: |n| format!("SSJCZBM{}", n + 1),
    };
    let (header, rows, _) = reshape(table, &shape);
    let text = write_csv(&header, rows);
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable, "the table has text GBK cannot write");
    std::fs::write(path, &bytes).unwrap();
}
