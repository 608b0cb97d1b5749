//! The record of an evaluation: which relations and tuples granted a permission, or were tried.

use std::fmt;

/// One step of an evaluation, with the steps beneath it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// What was evaluated, such as `vm:7#read = owner or organization.member` or a tuple.
    pub label: String,
    pub granted: bool,
    pub children: Vec<Trace>,
}

impl Trace {
    pub(crate) fn leaf(label: impl Into<String>, granted: bool) -> Self {
        Self {
            label: label.into(),
            granted,
            children: Vec::new(),
        }
    }

    /// The chain of steps that granted, from the top; empty when nothing did.
    pub fn granting_path(&self) -> Vec<&str> {
        let mut path = Vec::new();
        let mut at = self;
        if !at.granted {
            return path;
        }
        loop {
            path.push(at.label.as_str());
            match at.children.iter().find(|c| c.granted) {
                Some(next) => at = next,
                None => return path,
            }
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        writeln!(
            f,
            "{}{} {}",
            "  ".repeat(depth),
            if self.granted { "✓" } else { "✗" },
            self.label
        )?;
        for c in &self.children {
            c.write(f, depth + 1)?;
        }
        Ok(())
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}
