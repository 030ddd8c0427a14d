//! The Python literals a `.npy` header is written in: parsed (a dict of
//! strings, ints, bools, tuples and lists) and printed back as Python's
//! `repr` prints them, so a header written here matches NumPy's byte for byte.

use std::fmt;

/// A Python literal value, as far as `.npy` headers use them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

/// Nesting deeper than this is refused, so hostile headers cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// Parses one literal that must span all of `text` but for whitespace.
pub fn parse(text: &str) -> Result<Literal, String> {
    parse_with(text, false)
}

/// [`parse`], also reading Python 2's long integers (`3L`), as NumPy reads
/// them in headers of format versions 1.0 and 2.0.
pub fn parse_with_longs(text: &str) -> Result<Literal, String> {
    parse_with(text, true)
}

fn parse_with(text: &str, longs: bool) -> Result<Literal, String> {
    let mut p = LiteralParser {
        text,
        pos: 0,
        longs,
    };
    let value = p.value(0)?;
    p.skip_space();
    if p.pos < text.len() {
        return Err(p.unexpected("the end"));
    }
    Ok(value)
}

struct LiteralParser<'a> {
    text: &'a str,
    pos: usize,
    /// Whether `3L` reads as 3.
    longs: bool,
}

impl LiteralParser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Python's own whitespace between tokens, ASCII only.
    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len()
            - rest
                .trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
                .len();
    }

    fn unexpected(&self, wanted: &str) -> String {
        let found: String = self.rest().chars().take(20).collect();
        if found.is_empty() {
            format!("the header ends where {wanted} was expected")
        } else {
            format!(
                "{found:?} at character {} where {wanted} was expected",
                self.pos
            )
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > MAX_DEPTH {
            return Err(format!("literals nested deeper than {MAX_DEPTH}"));
        }
        self.skip_space();
        match self.peek() {
            Some('{') => self.dict(depth),
            Some('(') => self.sequence(')', depth).map(|(items, trailing_comma)| {
                if items.len() == 1 && !trailing_comma {
                    items.into_iter().next().unwrap_or(Literal::None)
                } else {
                    Literal::Tuple(items)
                }
            }),
            Some('[') => self
                .sequence(']', depth)
                .map(|(items, _)| Literal::List(items)),
            Some(q @ ('\'' | '"')) => self.string(q).map(Literal::Str),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.int(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            _ => Err(self.unexpected("a value")),
        }
    }

    /// Items up to `close`, and whether a comma followed the last one.
    fn sequence(&mut self, close: char, depth: usize) -> Result<(Vec<Literal>, bool), String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok((items, true));
            }
            items.push(self.value(depth + 1)?);
            if self.eat(close) {
                return Ok((items, false));
            }
            if !self.eat(',') {
                return Err(self.unexpected(&format!("',' or '{close}'")));
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Literal, String> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(Literal::Dict(entries));
            }
            let key = self.value(depth + 1)?;
            if !self.eat(':') {
                return Err(self.unexpected("':'"));
            }
            entries.push((key, self.value(depth + 1)?));
            if self.eat('}') {
                return Ok(Literal::Dict(entries));
            }
            if !self.eat(',') {
                return Err(self.unexpected("',' or '}'"));
            }
        }
    }

    fn word(&mut self) -> Result<Literal, String> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        let value = match &rest[..len] {
            "True" => Literal::Bool(true),
            "False" => Literal::Bool(false),
            "None" => Literal::None,
            _ => return Err(self.unexpected("a value")),
        };
        self.pos += len;
        Ok(value)
    }

    fn int(&mut self) -> Result<Literal, String> {
        let rest = self.rest();
        let sign_len = usize::from(rest.starts_with(['-', '+']));
        let digits = rest[sign_len..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - sign_len);
        if digits == 0 {
            return Err(self.unexpected("a number"));
        }
        let text = &rest[..sign_len + digits];
        // Python 3 reads `04` as a syntax error; only `0`, `00`, ... may lead with a zero.
        let magnitude = &text[sign_len..];
        if magnitude.len() > 1 && magnitude.starts_with('0') && magnitude.bytes().any(|b| b != b'0')
        {
            return Err(format!(
                "the number {text} has a leading zero, which Python does not allow"
            ));
        }
        let value = text
            .parse::<i128>()
            .map_err(|_| format!("the number {text} is too large"))?;
        self.pos += text.len();
        // Python 2 wrote long integers as `3L`; NumPy still reads them.
        if self.longs && self.rest().starts_with('L') {
            self.pos += 1;
        }
        Ok(Literal::Int(value))
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\n' => break,
                '\\' => {
                    let Some((_, e)) = chars.next() else { break };
                    match e {
                        '\\' | '\'' | '"' => out.push(e),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        '0' => out.push('\0'),
                        'x' | 'u' | 'U' => {
                            let width = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex: String = chars.by_ref().take(width).map(|(_, h)| h).collect();
                            let code = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == width)
                                .and_then(char::from_u32)
                                .ok_or_else(|| format!("a bad escape \\{e}{hex} in a string"))?;
                            out.push(code);
                        }
                        other => {
                            return Err(format!("an unsupported escape \\{other} in a string"));
                        }
                    }
                }
                c => out.push(c),
            }
        }
        Err("a string that is never closed".into())
    }
}

/// Prints the literal as Python's `repr` does.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write_str_repr(f, s),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Bool(true) => f.write_str("True"),
            Literal::Bool(false) => f.write_str("False"),
            Literal::None => f.write_str("None"),
            Literal::Tuple(items) => write_items(f, "(", items, ")"),
            Literal::List(items) => write_items(f, "[", items, "]"),
            Literal::Dict(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

fn write_items(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    items: &[Literal],
    close: &str,
) -> fmt::Result {
    f.write_str(open)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    // `(3,)`: the comma is what makes a one-item tuple.
    if open == "(" && items.len() == 1 {
        f.write_str(",")?;
    }
    f.write_str(close)
}

/// Python's `repr` of a string: single quotes unless the text holds a single
/// quote and no double quote; control and other unprintable characters escaped.
fn write_str_repr(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    write!(f, "{quote}")?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c == quote => write!(f, "\\{c}")?,
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) || c == '\u{ad}' => {
                write!(f, "\\x{:02x}", c as u32)?
            }
            c => write!(f, "{c}")?,
        }
    }
    write!(f, "{quote}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numpy_header_parses() {
        let text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }          \n";
        let Literal::Dict(entries) = parse(text).unwrap() else {
            panic!("not a dict")
        };
        assert_eq!(
            entries[0],
            (Literal::Str("descr".into()), Literal::Str("<f4".into()))
        );
        assert_eq!(entries[1].1, Literal::Bool(false));
        assert_eq!(
            entries[2].1,
            Literal::Tuple((2..=5).map(Literal::Int).collect())
        );
    }

    #[test]
    fn printing_matches_python_repr() {
        let cases = [
            "[('a', '<i4'), ('b', '<f8', (2,))]",
            "(3,)",
            "()",
            "{'x': [1, -2], 'y': None}",
            "\"it's\"",
            "'tab\\there'",
            "'π'",
        ];
        for text in cases {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
        assert_eq!(parse("(3)").unwrap(), Literal::Int(3));
        assert_eq!(parse("\"<f4\"").unwrap().to_string(), "'<f4'");
        assert_eq!(parse_with_longs("12L").unwrap(), Literal::Int(12));
        assert!(parse("12L").is_err());
        assert_eq!(parse("'\\x41\\u03c0'").unwrap(), Literal::Str("Aπ".into()));
    }

    #[test]
    fn malformed_literals_are_refused_not_panicked_on() {
        for text in [
            "{",
            "{'a' 1}",
            "(1 2)",
            "'open",
            "[1,,]",
            "nope",
            "1 2",
            "-",
            "'\\x4'",
            "'\\q'",
            "04",
            "(1,\u{a0}2)",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).unwrap_err().contains("nested deeper"));
        assert_eq!(parse("(0, 00, -0)").unwrap().to_string(), "(0, 0, 0)");
        let huge = "9".repeat(60);
        assert!(parse(&huge).unwrap_err().contains("too large"));
    }
}
