//! The secrets classifier measured on real fields: `tests/data/secret-fields.tsv`
//! holds fields from public Prisma schemas of real products (source
//! repository per row), labelled `secret`/`not-secret` with a category the
//! way a security reviewer would. Each model is rebuilt as a schema (type,
//! `@id`/`@unique`/foreign key, `@map`, `@db.*`, `///` doc) and every field
//! classified. Fails on any missed secret (100% recall in every category)
//! or below 95% precision; prints both, with every miss and false alarm.

use idpviews_build::generate::classify;
use idpviews_build::prisma;
use std::collections::BTreeMap;
use std::fmt::Write as _;

struct Row {
    source: String,
    model: String,
    field: String,
    ty: String,
    keys: String,
    map: String,
    native: String,
    doc: String,
    secret: bool,
    category: String,
    note: String,
}

fn rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/secret-fields.tsv");
    let text = std::fs::read_to_string(path).expect("the labelled data set");
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header = lines.next().expect("a header line");
    assert_eq!(
        header,
        "source\tmodel\tfield\ttype\tkeys\tmap\tnative\tdoc\tlabel\tcategory\tnote"
    );
    lines
        .enumerate()
        .map(|(i, l)| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 11, "row {}: {l}", i + 1);
            assert!(
                matches!(c[8], "secret" | "not-secret"),
                "row {}: label {}",
                i + 1,
                c[8]
            );
            assert_eq!(
                c[8] == "secret",
                !c[9].is_empty(),
                "row {}: a secret has a category, nothing else does",
                i + 1
            );
            Row {
                source: c[0].into(),
                model: c[1].into(),
                field: c[2].into(),
                ty: c[3].into(),
                keys: c[4].into(),
                map: c[5].into(),
                native: c[6].into(),
                doc: c[7].into(),
                secret: c[8] == "secret",
                category: c[9].into(),
                note: c[10].into(),
            }
        })
        .collect()
}

/// One model of the data set as a Prisma schema.
fn schema_of(model: &str, fields: &[&Row]) -> String {
    let mut s = String::from(
        "enum Kind {\n  A\n}\n\nmodel StubString {\n  id String @id\n}\n\nmodel StubInt {\n  id Int @id\n}\n\n",
    );
    writeln!(s, "model {model} {{").unwrap();
    let mut has_id = false;
    for r in fields {
        if !r.doc.is_empty() {
            writeln!(s, "  /// {}", r.doc).unwrap();
        }
        let ty = r.ty.replacen("Enum", "Kind", 1);
        let mut line = format!("  {} {ty}", r.field);
        match r.keys.as_str() {
            "id" if !has_id => {
                has_id = true;
                line.push_str(" @id");
            }
            "id" | "unique" => line.push_str(" @unique"),
            _ => {}
        }
        if !r.map.is_empty() {
            write!(line, " @map(\"{}\")", r.map).unwrap();
        }
        if !r.native.is_empty() {
            write!(line, " @db.{}", r.native).unwrap();
        }
        writeln!(s, "{line}").unwrap();
        if r.keys == "fk" {
            let base = ty.trim_end_matches('?');
            let opt = if ty.ends_with('?') { "?" } else { "" };
            writeln!(
                s,
                "  rel_{f} Stub{base}{opt} @relation(\"rel_{f}\", fields: [{f}], references: [id])",
                f = r.field
            )
            .unwrap();
        }
    }
    s.push_str("}\n");
    s
}

#[test]
fn labelled_real_fields_recall_and_precision() {
    let rows = rows();
    assert!(rows.len() >= 300, "only {} labelled fields", rows.len());
    let mut by_model: BTreeMap<(&str, &str), Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        by_model
            .entry((r.source.as_str(), r.model.as_str()))
            .or_default()
            .push(r);
    }
    let (mut tp, mut fp, mut tn) = (0usize, 0usize, 0usize);
    let mut per_category: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    let mut false_alarms = Vec::new();
    for ((source, model), fields) in &by_model {
        let text = schema_of(model, fields);
        let (_, _, schema, _) = prisma::parse_str("case.prisma", &text);
        let m = schema
            .model(model)
            .unwrap_or_else(|| panic!("{source} {model} did not parse:\n{text}"));
        for r in fields {
            let f = m
                .field(&r.field)
                .unwrap_or_else(|| panic!("{source} {model}.{} did not parse:\n{text}", r.field));
            let got = classify(m, f);
            if r.secret {
                let e = per_category.entry(r.category.as_str()).or_default();
                e.1 += 1;
                match &got {
                    Some(_) => {
                        tp += 1;
                        e.0 += 1;
                    }
                    None => missed.push(format!(
                        "{source} {model}.{} {} ({}) {}",
                        r.field, r.ty, r.category, r.note
                    )),
                }
            } else {
                match &got {
                    Some(g) => {
                        fp += 1;
                        false_alarms.push(format!(
                            "{source} {model}.{} {}: rule `{}`: {} {}",
                            r.field, r.ty, g.rule, g.reason, r.note
                        ));
                    }
                    None => tn += 1,
                }
            }
        }
    }
    let secrets = rows.iter().filter(|r| r.secret).count();
    let recall = 100.0 * tp as f64 / secrets.max(1) as f64;
    let precision = 100.0 * tp as f64 / (tp + fp).max(1) as f64;
    let sources: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.source.as_str()).collect();
    println!(
        "secret-fields.tsv: {} fields from {} repositories ({}), {secrets} secrets",
        rows.len(),
        sources.len(),
        sources.iter().copied().collect::<Vec<_>>().join(", ")
    );
    println!("recall {recall:.1}% ({tp}/{secrets}), precision {precision:.1}% ({tp}/{}), {tn} harmless fields passed", tp + fp);
    for (c, (hit, all)) in &per_category {
        println!("  {c}: {hit}/{all}");
    }
    for m in &missed {
        println!("MISSED {m}");
    }
    for f in &false_alarms {
        println!("FALSE ALARM {f}");
    }
    assert!(missed.is_empty(), "{} secret(s) missed", missed.len());
    assert!(precision >= 95.0, "precision {precision:.1}% is below 95%");
}
