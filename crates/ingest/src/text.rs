//! Small text helpers for registry data, which is often all upper case.

/// `JANE` → `Jane`, `O'BRIEN-SMITH` → `O'Brien-Smith`: a word is capitalised after a space,
/// hyphen, apostrophe or period. Text that already has lower-case letters is kept as written,
/// since its author chose the case (`McDonald`). Words in `keep_upper` (compared without case)
/// stay upper case (`LLC`).
pub(crate) fn title_case_if_shouting(text: &str, keep_upper: &[&str]) -> String {
    let text = text.trim();
    if text.chars().any(char::is_lowercase) {
        return text.to_owned();
    }
    text.split(' ')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
            if keep_upper
                .iter()
                .any(|kept| kept.eq_ignore_ascii_case(bare))
            {
                return word.to_owned();
            }
            let mut out = String::with_capacity(word.len());
            let mut start_of_part = true;
            for character in word.chars() {
                if start_of_part {
                    out.extend(character.to_uppercase());
                } else {
                    out.extend(character.to_lowercase());
                }
                start_of_part = matches!(character, '-' | '\'' | '.' | '/' | '(');
            }
            out
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shouting_names_are_title_cased_and_written_ones_kept() {
        assert_eq!(title_case_if_shouting("JANE", &[]), "Jane");
        assert_eq!(
            title_case_if_shouting("O'BRIEN-SMITH", &[]),
            "O'Brien-Smith"
        );
        assert_eq!(title_case_if_shouting("McDonald", &[]), "McDonald");
        assert_eq!(
            title_case_if_shouting("ROSE CITY  PELVIC HEALTH LLC", &["LLC"]),
            "Rose City Pelvic Health LLC"
        );
    }
}
