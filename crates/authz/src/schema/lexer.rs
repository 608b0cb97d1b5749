//! Splits schema text into tokens that remember their line and column.

use super::SchemaError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    Ident(String),
    At,
    Hash,
    Dot,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Eq,
    Pipe,
    Comma,
    /// Anything else Permify has (`:`, `>`, strings, numbers…) that this engine does not read.
    Other(char),
    End,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::At => "`@`".into(),
            Tok::Hash => "`#`".into(),
            Tok::Dot => "`.`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Eq => "`=`".into(),
            Tok::Pipe => "`|`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Other(c) => format!("`{c}`"),
            Tok::End => "the end of the schema".into(),
        }
    }
}

/// Where a token starts: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

pub(crate) fn lex(text: &str) -> Result<Vec<(Tok, Pos)>, SchemaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column: col };
        let advance = |i: &mut usize, line: &mut usize, col: &mut usize, ch: char| {
            *i += 1;
            if ch == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
        };
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, c);
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            advance(&mut i, &mut line, &mut col, '/');
            advance(&mut i, &mut line, &mut col, '*');
            loop {
                if i >= chars.len() {
                    return Err(SchemaError::at(
                        pos,
                        "this comment is never closed with `*/`",
                    ));
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    advance(&mut i, &mut line, &mut col, '*');
                    advance(&mut i, &mut line, &mut col, '/');
                    break;
                }
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut word = String::new();
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                word.push(chars[i]);
                {
                    let ch = chars[i];
                    advance(&mut i, &mut line, &mut col, ch);
                }
            }
            out.push((Tok::Ident(word), pos));
            continue;
        }
        let tok = match c {
            '@' => Tok::At,
            '#' => Tok::Hash,
            '.' => Tok::Dot,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '=' => Tok::Eq,
            '|' => Tok::Pipe,
            ',' => Tok::Comma,
            other => Tok::Other(other),
        };
        out.push((tok, pos));
        advance(&mut i, &mut line, &mut col, c);
    }
    out.push((Tok::End, Pos { line, column: col }));
    Ok(out)
}
