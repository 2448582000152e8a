//! Text matching for people's names: one folding used wherever a person
//! types a name and expects to find "Zoë Ångström" as "zoe angstrom"
//! (user search, and the review CSV's name order).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `s` for matching: compatibility-decomposed (NFKD), combining marks
/// (accents) removed, lowercased, and runs of whitespace made one space.
/// Letters that are not a base plus a mark (ø, ß, đ) stay as they are.
pub fn fold_for_match(s: &str) -> String {
    let folded: String = s
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::fold_for_match;

    #[test]
    fn accents_case_and_spacing_fold_away() {
        assert_eq!(fold_for_match("Zoë  Ångström"), "zoe angstrom");
        assert_eq!(fold_for_match("Omar Kovačević"), "omar kovacevic");
        assert_eq!(fold_for_match("JOSÉ Núñez"), "jose nunez");
        // Compatibility forms: the ligature and full-width letters.
        assert_eq!(fold_for_match("ﬁona ＡＢ"), "fiona ab");
        // Not a base letter plus a mark: kept (a search for "o" must not
        // claim to find "ø").
        assert_eq!(fold_for_match("Søren"), "søren");
        assert_eq!(fold_for_match("刘秀英"), "刘秀英");
    }
}
