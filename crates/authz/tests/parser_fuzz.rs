//! The schema and tuple parsers never panic, whatever the input.

use authz::{Schema, Subject, Tuple};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "entity",
    "relation",
    "permission",
    "action",
    "or",
    "and",
    "not",
    "rule",
    "attribute",
    "user",
    "doc",
    "owner",
    "parent",
    "view",
    "{",
    "}",
    "(",
    ")",
    "@",
    "#",
    ".",
    "=",
    "|",
    ",",
    "//",
    "/*",
    "*/",
    "\n",
    "x",
    "1",
    "é",
    ":",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..80).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn schema_parser_never_panics_on_token_soup(text in soup()) {
        let _ = Schema::parse(&text);
    }

    #[test]
    fn schema_parser_never_panics_on_any_text(text in "\\PC{0,200}") {
        if let Err(e) = Schema::parse(&text) {
            prop_assert!(e.pos.line >= 1 && e.pos.column >= 1);
        }
    }

    #[test]
    fn tuple_parser_never_panics(text in "[a-z:#@_0-9 ]{0,40}") {
        let _ = text.parse::<Tuple>();
        let _ = text.parse::<Subject>();
    }
}
