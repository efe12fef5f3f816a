//! `docs/api.md`'s error table is the frontends' copy of [`ErrorCode`]'s table: the same codes,
//! each with the same HTTP statuses, in both directions.

use std::collections::{BTreeMap, BTreeSet};

use carematch_domain::ErrorCode;

const API_GUIDE: &str = include_str!("../../../docs/api.md");

/// The rows of the table under `## Errors`: code → the HTTP statuses its row names.
fn documented_codes(guide: &str) -> BTreeMap<String, BTreeSet<u16>> {
    let section = guide
        .split("\n## ")
        .find(|section| section.starts_with("Errors\n"))
        .expect("docs/api.md has an `## Errors` section");
    let mut rows = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'));
    let header: Vec<&str> = cells(rows.next().expect("a table under `## Errors`"));
    assert_eq!(header.first(), Some(&"code"), "{header:?}");
    assert_eq!(header.get(1), Some(&"HTTP"), "{header:?}");
    let mut documented = BTreeMap::new();
    for row in rows.skip(1) {
        let cells = cells(row);
        let code = cells[0].trim_matches('`').to_owned();
        let statuses = cells[1]
            .split(|character: char| !character.is_ascii_digit())
            .filter(|number| number.len() == 3)
            .map(|number| number.parse().expect("three digits"))
            .collect();
        assert!(
            documented.insert(code.clone(), statuses).is_none(),
            "{code} has two rows"
        );
    }
    documented
}

fn cells(row: &str) -> Vec<&str> {
    row.trim()
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

fn table(codes: &[ErrorCode]) -> BTreeMap<String, BTreeSet<u16>> {
    codes
        .iter()
        .map(|code| {
            let statuses = code.http_statuses().iter().copied().collect();
            (code.as_str().to_owned(), statuses)
        })
        .collect()
}

/// Codes in `left` missing from `right`, or listed there with other statuses.
fn differences(
    left: &BTreeMap<String, BTreeSet<u16>>,
    right: &BTreeMap<String, BTreeSet<u16>>,
) -> Vec<String> {
    left.iter()
        .filter_map(|(code, statuses)| match right.get(code) {
            None => Some(format!("{code} is missing")),
            Some(other) if other != statuses => {
                Some(format!("{code}: {statuses:?} against {other:?}"))
            }
            Some(_) => None,
        })
        .collect()
}

#[test]
fn the_guide_lists_every_public_code_with_its_statuses() {
    let documented = documented_codes(API_GUIDE);
    let coded = table(ErrorCode::ALL);
    assert_eq!(
        differences(&coded, &documented),
        Vec::<String>::new(),
        "codes of ErrorCode that docs/api.md's error table lacks or gives other statuses"
    );
    assert_eq!(
        differences(&documented, &coded),
        Vec::<String>::new(),
        "rows of docs/api.md's error table that ErrorCode lacks or gives other statuses"
    );
}

/// A guide whose error table lists `codes` with their statuses, as docs/api.md writes it.
fn guide_listing(codes: &[ErrorCode]) -> String {
    let mut guide = "# Guide\n\n## Errors\n\nWords.\n\n| code | HTTP | when | what to do |\n|---|---|---|---|\n".to_owned();
    for code in codes {
        let statuses: Vec<String> = code.http_statuses().iter().map(u16::to_string).collect();
        guide.push_str(&format!(
            "| `{code}` | {} | {} | |\n",
            statuses.join(" / "),
            code.description()
        ));
    }
    guide.push_str("\n## Limits\n\n| limit | default |\n|---|---|\n| depth | 15 |\n");
    guide
}

#[test]
fn a_code_on_one_side_only_is_found() {
    let coded = table(ErrorCode::ALL);
    let same = documented_codes(&guide_listing(ErrorCode::ALL));
    assert_eq!(differences(&coded, &same), Vec::<String>::new());
    assert_eq!(differences(&same, &coded), Vec::<String>::new());
    let without_first = documented_codes(&guide_listing(&ErrorCode::ALL[1..]));
    assert_eq!(
        differences(&coded, &without_first),
        vec![format!("{} is missing", ErrorCode::ALL[0])]
    );
    let renamed = documented_codes(
        &guide_listing(ErrorCode::ALL).replace("| `FORBIDDEN` |", "| `NO_LONGER_FORBIDDEN` |"),
    );
    assert_eq!(
        differences(&coded, &renamed),
        vec!["FORBIDDEN is missing".to_owned()]
    );
    assert_eq!(
        differences(&renamed, &coded),
        vec!["NO_LONGER_FORBIDDEN is missing".to_owned()]
    );
    let other_status = documented_codes(
        &guide_listing(ErrorCode::ALL).replace("| `NOT_FOUND` | 200 |", "| `NOT_FOUND` | 404 |"),
    );
    assert_eq!(
        differences(&coded, &other_status),
        vec!["NOT_FOUND: {200} against {404}".to_owned()]
    );
}
