//! The national cases in the shapes hospitals export (specs/columns.md), built
//! at test time from ../shared/testdata/chs-drg-1.1/cases.csv, group exactly
//! as the original cases do; hostile workbooks give a clear error, never a
//! crash.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use drg_conformance::shape_support::{codes, discharge_name, level_name, sex_name, thousands, with_unit, write_csv};
use drg_conformance::{differences, read_expected, shared_dir};
use drg_core::read::{open_cases, ReadOptions, TextEncoding};
use drg_core::{GroupResult, Grouper, Pack};

fn cases() -> Vec<HashMap<String, String>> {
    let path = shared_dir().join("testdata/chs-drg-1.1/cases.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader.records().map(|r| headers.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drg-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Groups a file through the reading layer and compares with expected.csv.
fn assert_groups_as_expected(path: &Path, options: &ReadOptions) {
    let shared = shared_dir();
    let pack = Pack::open(shared.join("rulepacks/chs-drg-1.1")).unwrap();
    let grouper = Grouper::new(Arc::new(pack));
    let mut source = open_cases(path.to_str().unwrap(), options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut actual = Vec::new();
    for row in source.rows() {
        let row = row.unwrap();
        let (id, result) = match &row.case {
            Ok(case) => (case.id.clone(), grouper.group(case)),
            Err(e) => (e.id.clone(), GroupResult::invalid(e.reason.clone())),
        };
        let s = |x: Option<&str>| x.unwrap_or("").to_string();
        actual.push((id, result.status.to_string(), s(result.mdc), s(result.adrg), s(result.drg)));
    }
    let expected = read_expected(&shared.join("testdata/chs-drg-1.1/expected.csv"));
    let diffs = differences(&expected, &actual);
    assert!(diffs.is_empty(), "{}: {} of {} cases differ:\n{}", path.display(), diffs.len(), expected.len(), diffs.iter().take(30).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn xlsx_with_chinese_headers_and_wide_columns() {
    use rust_xlsxwriter::Workbook;
    let cases = cases();
    let n_dx = cases.iter().map(|c| codes(&c["diagnoses"]).len()).max().unwrap();
    let n_px = cases.iter().map(|c| codes(&c["procedures"]).len()).max().unwrap();
    let mut header: Vec<String> = ["病案号", "医疗机构编码", "医院等级", "性别", "年龄（岁）", "年龄（天）", "新生儿出生体重（克）", "实际住院天数", "离院方式", "出院科别", "住院总费用", "个人负担金额", "主要诊断编码", "主要诊断名称"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend((1..n_dx).map(|n| format!("其他诊断编码{n}")));
    header.push("主要手术操作编码".into());
    header.extend((1..n_px).map(|n| format!("其他手术操作编码{n}")));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory();
    ws.set_name("结算清单").unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (r, case) in cases.iter().enumerate() {
        let row = r as u32 + 1;
        let mut cells: Vec<String> = vec![
            case["id"].clone(),
            case["hospital"].clone(),
            level_name(&case["hospital_level"]).into(),
            sex_name(&case["sex"]).into(),
            case["age_years"].clone(),
            case["age_days"].clone(),
            case["weight_g"].clone(),
            case["los_days"].clone(),
            discharge_name(&case["discharge"]).into(),
            case["dept"].clone(),
            case["total_cost"].clone(),
            case["self_pay"].clone(),
        ];
        let dx = codes(&case["diagnoses"]);
        cells.push(dx.first().copied().unwrap_or("").into());
        cells.push("某诊断".into());
        cells.extend((1..n_dx).map(|i| dx.get(i).copied().unwrap_or("").to_string()));
        let px = codes(&case["procedures"]);
        cells.extend((0..n_px).map(|i| px.get(i).copied().unwrap_or("").to_string()));
        for (c, v) in cells.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            // Numbers in number cells, as Excel holds them.
            let numeric = matches!(c, 4 | 5 | 6 | 7 | 10 | 11);
            match v.parse::<f64>() {
                Ok(x) if numeric => ws.write_number(row, c as u16, x).map(|_| ()),
                _ => ws.write_string(row, c as u16, v).map(|_| ()),
            }
            .unwrap();
        }
    }
    let path = scratch("national.xlsx");
    wb.save(&path).unwrap();
    assert_groups_as_expected(&path, &ReadOptions::default());
    assert_groups_as_expected(&path, &ReadOptions { sheet: Some("结算清单".into()), ..Default::default() });
}

#[test]
fn gbk_csv_with_front_page_codes_separators_and_units() {
    let cases = cases();
    let n_dx = cases.iter().map(|c| codes(&c["diagnoses"]).len()).max().unwrap();
    let n_px = cases.iter().map(|c| codes(&c["procedures"]).len()).max().unwrap();
    let mut header: Vec<String> = ["BAH", "医疗机构代码", "医疗机构等级", "XB", "NL", "年龄不足1周岁的年龄(天)", "XSECSTZ", "SJZYTS", "LYFS", "CYKB", "ZFY", "个人负担", "JBDM"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend((1..n_dx).map(|n| format!("JBDM{n}")));
    header.extend((1..=n_px).map(|n| format!("SSJCZBM{n}")));
    let rows = cases
        .iter()
        .map(|case| {
            let mut r = vec![
                case["id"].clone(),
                case["hospital"].clone(),
                case["hospital_level"].clone(),
                sex_name(&case["sex"]).into(),
                with_unit(&case["age_years"], "岁"),
                with_unit(&case["age_days"], "天"),
                with_unit(&case["weight_g"], "克"),
                with_unit(&case["los_days"], "天"),
                case["discharge"].clone(),
                case["dept"].clone(),
                thousands(&case["total_cost"]),
                with_unit(&thousands(&case["self_pay"]), "元"),
            ];
            let dx = codes(&case["diagnoses"]);
            r.extend((0..n_dx).map(|i| dx.get(i).copied().unwrap_or("").to_string()));
            let px = codes(&case["procedures"]);
            r.extend((0..n_px).map(|i| px.get(i).copied().unwrap_or("").to_string()));
            r
        })
        .collect();
    let text = write_csv(&header, rows);
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let path = scratch("national-gbk.csv");
    std::fs::write(&path, &bytes).unwrap();
    assert_groups_as_expected(&path, &ReadOptions { encoding: TextEncoding::Gbk, ..Default::default() });
}

#[test]
fn csv_with_numbered_diagnosis_columns_and_full_width_brackets() {
    let cases = cases();
    let n_dx = cases.iter().map(|c| codes(&c["diagnoses"]).len()).max().unwrap();
    let n_px = cases.iter().map(|c| codes(&c["procedures"]).len()).max().unwrap();
    let mut header: Vec<String> = ["住院号", "定点医疗机构编码", "医院等级", "性别", "年龄（岁）", "不足1周岁年龄（天）", "出生体重（克）", "住院天数", "离院方式", "科室", "医疗费总额", "个人负担总额"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend((1..=n_dx).map(|n| format!("诊断编码{n}")));
    header.extend((1..=n_px).map(|n| format!("手术及操作编码{n}")));
    let rows = cases
        .iter()
        .map(|case| {
            let mut r: Vec<String> = ["id", "hospital", "hospital_level", "sex", "age_years", "age_days", "weight_g", "los_days", "discharge", "dept", "total_cost", "self_pay"]
                .iter()
                .map(|k| case[*k].clone())
                .collect();
            let dx = codes(&case["diagnoses"]);
            r.extend((0..n_dx).map(|i| dx.get(i).copied().unwrap_or("").to_string()));
            let px = codes(&case["procedures"]);
            r.extend((0..n_px).map(|i| px.get(i).copied().unwrap_or("").to_string()));
            r
        })
        .collect();
    let path = scratch("national-wide.csv");
    std::fs::write(&path, write_csv(&header, rows)).unwrap();
    assert_groups_as_expected(&path, &ReadOptions::default());
}

// Hostile workbooks --------------------------------------------------------

fn zip_with(path: &Path, parts: &[(&str, &[u8])]) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for (name, body) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(body).unwrap();
    }
    zip.finish().unwrap();
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const WORKBOOK: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

fn workbook_with_sheet(path: &Path, sheet_data: &[u8]) {
    let mut sheet = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#.to_vec();
    sheet.extend_from_slice(sheet_data);
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    zip_with(path, &[("[Content_Types].xml", CONTENT_TYPES), ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/worksheets/sheet1.xml", &sheet)]);
}

fn inline(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>病案号</t></is></c><c r="B1" t="inlineStr"><is><t>性别</t></is></c><c r="C1" t="inlineStr"><is><t>年龄</t></is></c><c r="D1" t="inlineStr"><is><t>主要诊断编码</t></is></c><c r="E1" t="inlineStr"><is><t>主要手术操作编码</t></is></c></row>"#;

fn read_all(path: &Path) -> Result<Vec<drg_core::read::ReadRow>, String> {
    let mut source = open_cases(path.to_str().unwrap(), &ReadOptions::default()).map_err(|e| e.to_string())?;
    source.rows().collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
}

#[test]
fn a_workbook_that_is_not_a_zip_is_refused_clearly() {
    let path = scratch("not-a-zip.xlsx");
    std::fs::write(&path, "id,sex\n1,1\n").unwrap();
    let e = read_all(&path).unwrap_err();
    assert!(e.contains("not an .xlsx workbook"), "{e}");
}

#[test]
fn a_zip_bomb_is_refused() {
    // A sheet that inflates from about 0.1 MB to 100 MB.
    let path = scratch("bomb.xlsx");
    let mut data = HEADER_ROW.as_bytes().to_vec();
    data.resize(data.len() + (100 << 20), b' ');
    workbook_with_sheet(&path, &data);
    assert!(std::fs::metadata(&path).unwrap().len() < 4 << 20);
    let e = read_all(&path).unwrap_err();
    assert!(e.contains("zip bomb"), "{e}");
}

#[test]
fn a_sheet_of_a_million_empty_rows_ends_with_no_case() {
    let path = scratch("empty-rows.xlsx");
    let mut data = HEADER_ROW.to_string();
    for r in 2..=1_048_576u32 {
        data.push_str(&format!(r#"<row r="{r}"/>"#));
    }
    workbook_with_sheet(&path, data.as_bytes());
    let rows = read_all(&path).unwrap();
    assert!(rows.is_empty(), "{} rows", rows.len());
}

#[test]
fn long_cells_formulas_and_booleans() {
    let path = scratch("cells.xlsx");
    let long = "K".repeat(32_767);
    let data = format!(
        "{HEADER_ROW}<row r=\"2\">{}{}<c r=\"C2\"><f>20+10</f><v>30</v></c>{}</row>\
         <row r=\"3\">{}{}<c r=\"C3\"><f>20+10</f></c>{}</row>\
         <row r=\"4\">{}<c r=\"B4\" t=\"b\"><v>1</v></c><c r=\"C4\"><v>30</v></c>{}</row>\
         <row r=\"5\">{}{}<c r=\"C5\"><v>30</v></c><c r=\"D5\"><v>99.1</v></c></row>",
        inline("A2", "long"), inline("B2", "男"), inline("D2", &long),
        inline("A3", "formula-without-value"), inline("B3", "男"), inline("D3", "K35.800"),
        inline("A4", "boolean"), inline("D4", "K35.800"),
        inline("A5", "number-code"), inline("B5", "女"),
    );
    workbook_with_sheet(&path, data.as_bytes());
    let rows = read_all(&path).unwrap();
    assert_eq!(rows.len(), 4);
    let long_case = rows[0].case.as_ref().unwrap();
    assert_eq!((long_case.age_years, long_case.diagnoses[0].len()), (Some(30), 32_767), "a formula is its cached value");
    assert_eq!(rows[1].case.as_ref().unwrap().age_years, None, "a formula without a cached value is empty");
    let e = rows[2].case.as_ref().unwrap_err();
    assert!(e.reason.contains("sex") && e.reason.starts_with("line 4:"), "{}", e.reason);
    assert_eq!(rows[3].case.as_ref().unwrap().diagnoses, vec!["99.1"]);
    assert_eq!(rows[3].warnings, vec![drg_core::columns::CODE_AS_NUMBER]);
}
