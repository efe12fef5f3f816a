//! Care-guide.md section 3 (2nd edition): free text that speaks of harming herself or her
//! baby, or of postpartum psychosis, raises the THOUGHTS_OF_HARM guidance. Matched as words
//! (never substrings: "skill" is not "kill"), in English and Spanish, with accents and
//! apostrophes folded and word forms matched by stem ("suicid" finds "suicidal" and
//! "suicidarme"). A false alarm costs a hotline number; a miss can cost a life, so the list
//! leans wide. The text itself is never logged.

/// What the words say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CrisisWords {
    /// Harming herself or her baby, suicide, not wanting to live.
    pub harm: bool,
    /// Signs of postpartum psychosis: hearing voices, seeing things, days without sleep.
    pub psychosis: bool,
}

impl CrisisWords {
    pub fn any(self) -> bool {
        self.harm || self.psychosis
    }
}

/// One word of a phrase: the exact word, or a stem that a word starts with (`kill*`), or one
/// of several (`my|the`).
type Phrase = &'static [&'static str];

/// Phrases of harm, folded (lower case, no accents, no apostrophes).
const HARM_PHRASES: &[Phrase] = &[
    &["suicid*"],
    &["selfharm*"],
    &["self", "harm*"],
    &["kill*", "myself|me"],
    &["end*", "my|it", "life|all"],
    &["take", "my", "own", "life"],
    &[
        "hurt*|harm*|kill*|smother*|drown*|shake|shaking",
        "myself|my|the|our",
        "baby|babies|child|son|daughter|newborn|infant",
    ],
    &["hurt*|harm*|kill*", "my|the|our", "new", "baby"],
    &["hurt*|harm*|cut*", "myself"],
    &["dont|not|never", "want", "to", "live|be|wake|exist*"],
    &["want", "to", "die|disappear"],
    &["wanna", "die"],
    &["wish", "i", "was|were", "dead"],
    &["better", "off", "dead|without"],
    &["no", "reason", "to", "live"],
    &["cant", "go", "on"],
    // Spanish.
    &["matarme"],
    &["me", "quiero", "matar|morir"],
    &["quiero", "morir*|matarme|desaparecer"],
    &["no", "quiero", "vivir|seguir"],
    &["quitarme", "la", "vida"],
    &["acabar|terminar", "con", "mi", "vida"],
    &["hacerme", "dano"],
    &["lastimarme|lastimarla|lastimarlo|autolesion*"],
    &["hacerle", "dano", "a", "mi", "bebe|hijo|hija"],
    &["lastimar|danar|matar", "a", "mi", "bebe|hijo|hija"],
    &["mejor", "muerta"],
];

/// Phrases of postpartum psychosis, folded.
const PSYCHOSIS_PHRASES: &[Phrase] = &[
    &["hear*", "voices"],
    &["voices", "in", "my", "head"],
    &[
        "seeing|see|saw",
        "things",
        "that",
        "arent|are|werent|is|isnt",
    ],
    &["seeing", "things"],
    &[
        "havent|hasnt|not|no",
        "slept|sleep|sleeping",
        "in|for",
        "days",
    ],
    &["days", "without", "sleep*"],
    // Spanish.
    &["oigo|escucho|oyendo|escuchando", "voces"],
    &["veo|viendo|ver", "cosas", "que", "no"],
    &["no", "he", "dormido", "en", "dias"],
    &["dias", "sin", "dormir"],
];

/// Reads `text` for crisis words.
pub fn crisis_words(text: &str) -> CrisisWords {
    let words = fold_into_words(text);
    CrisisWords {
        harm: HARM_PHRASES
            .iter()
            .any(|phrase| contains_phrase(&words, phrase)),
        psychosis: PSYCHOSIS_PHRASES
            .iter()
            .any(|phrase| contains_phrase(&words, phrase)),
    }
}

/// Lower case, accents folded, apostrophes dropped ("don't" is "dont"), split on everything
/// that is not a letter or digit.
fn fold_into_words(text: &str) -> Vec<String> {
    let mut folded = String::with_capacity(text.len());
    for character in text.chars().flat_map(char::to_lowercase) {
        match character {
            '\'' | '\u{2019}' | '\u{2018}' | '`' => {}
            'á' | 'à' | 'â' | 'ä' | 'ã' => folded.push('a'),
            'é' | 'è' | 'ê' | 'ë' => folded.push('e'),
            'í' | 'ì' | 'î' | 'ï' => folded.push('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => folded.push('o'),
            'ú' | 'ù' | 'û' | 'ü' => folded.push('u'),
            'ñ' => folded.push('n'),
            'ç' => folded.push('c'),
            character if character.is_alphanumeric() => folded.push(character),
            _ => folded.push(' '),
        }
    }
    folded.split_whitespace().map(str::to_owned).collect()
}

fn word_matches(word: &str, pattern: &str) -> bool {
    pattern
        .split('|')
        .any(|choice| match choice.strip_suffix('*') {
            Some(stem) => word.starts_with(stem),
            None => word == choice,
        })
}

fn contains_phrase(words: &[String], phrase: Phrase) -> bool {
    words.windows(phrase.len()).any(|window| {
        window
            .iter()
            .zip(phrase.iter())
            .all(|(word, pattern)| word_matches(word, pattern))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrasings_of_harm_not_held_verbatim_are_found() {
        for text in [
            "I keep thinking about killing myself",
            "Some days I feel suicidal",
            "honestly my family would be better off without me",
            "I don't want to live like this anymore",
            "I'm scared I might hurt my son",
            "i wish i were dead",
            "I just want to end it all",
            "I've thought about harming my newborn",
            "Pienso en suicidarme todos los días",
            "ya no quiero vivir así",
            "tengo miedo de hacerle daño a mi bebé",
            "A veces quiero morirme",
        ] {
            assert!(crisis_words(text).harm, "{text}");
        }
    }

    #[test]
    fn words_of_postpartum_psychosis_are_found() {
        for text in [
            "I have been hearing voices at night",
            "I keep seeing things that aren't there",
            "I haven't slept in days and feel strange",
            "oigo voces cuando el bebé duerme",
            "llevo tres días sin dormir",
        ] {
            let found = crisis_words(text);
            assert!(found.psychosis && found.any(), "{text}");
        }
    }

    #[test]
    fn words_are_matched_whole_not_as_substrings() {
        for text in [
            "I want to build my skill set back after leave",
            "looking for help with my baby's latch",
            "the pain is killing my back, massage please",
            "I want to live a healthier life",
            "sleep training advice",
            "",
        ] {
            assert_eq!(crisis_words(text), CrisisWords::default(), "{text}");
        }
    }
}
