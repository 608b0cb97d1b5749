//! Splits schema text into tokens that remember their line and column.
// Schema text is input: no index into it may panic.
#![deny(clippy::indexing_slicing)]

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

/// Where the lexer is: an index into the characters and the line and column it stands on.
struct Cursor {
    i: usize,
    line: usize,
    col: usize,
}

impl Default for Cursor {
    fn default() -> Self {
        Self {
            i: 0,
            line: 1,
            col: 1,
        }
    }
}

impl Cursor {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.col,
        }
    }

    /// Steps over `ch`, the character at the cursor.
    fn advance(&mut self, ch: char) {
        self.i += 1;
        if ch == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
    }
}

pub(crate) fn lex(text: &str) -> Result<Vec<(Tok, Pos)>, SchemaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = Cursor::default();
    while let Some(&c) = chars.get(at.i) {
        let pos = at.pos();
        let next = chars.get(at.i + 1).copied();
        if c.is_whitespace() {
            at.advance(c);
            continue;
        }
        if c == '/' && next == Some('/') {
            while let Some(&ch) = chars.get(at.i).filter(|&&ch| ch != '\n') {
                at.advance(ch);
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            at.advance('/');
            at.advance('*');
            loop {
                let Some(&ch) = chars.get(at.i) else {
                    return Err(SchemaError::at(
                        pos,
                        "this comment is never closed with `*/`",
                    ));
                };
                at.advance(ch);
                if ch == '*' && chars.get(at.i) == Some(&'/') {
                    at.advance('/');
                    break;
                }
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut word = String::new();
            while let Some(&ch) = chars
                .get(at.i)
                .filter(|ch| ch.is_ascii_alphanumeric() || **ch == '_')
            {
                word.push(ch);
                at.advance(ch);
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
        at.advance(c);
    }
    let (line, col) = (at.line, at.col);
    out.push((Tok::End, Pos { line, column: col }));
    Ok(out)
}
