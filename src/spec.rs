//! The `--crop` grammar: one [`Cropping`] value, parsed from every form Keras
//! accepts for `cropping=` and printed back in one canonical form.

use std::fmt;
use std::str::FromStr;

/// How many rows and columns to remove from each side, as Keras stores it:
/// `((top, bottom), (left, right))`.
///
/// ```
/// use rcrop::Cropping;
/// let c: Cropping = "2:4,5".parse().unwrap();
/// assert_eq!(c, Cropping { top: 2, bottom: 2, left: 4, right: 5 });
/// assert_eq!(c.to_string(), "2,2:4,5");
/// assert_eq!(c.to_keras(), "((2, 2), (4, 5))");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cropping {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

/// A `--crop` value that is not one of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{reason} in crop spec {spec:?}; expected non-negative integers as N, H,W, T,B:L,R \
     (each side of ':' one number or two), or a Keras tuple such as ((T,B),(L,R))"
)]
pub struct SpecError {
    spec: String,
    reason: String,
}

impl Cropping {
    /// The same crop on every side, as Keras' `cropping=n`.
    pub fn uniform(n: usize) -> Self {
        Self::from_groups((n, n), (n, n))
    }

    /// Builds a crop from `(top, bottom)` and `(left, right)`.
    pub fn from_groups(height: (usize, usize), width: (usize, usize)) -> Self {
        Self {
            top: height.0,
            bottom: height.1,
            left: width.0,
            right: width.1,
        }
    }

    /// The crop as Keras prints `layer.cropping`: `((top, bottom), (left, right))`.
    pub fn to_keras(&self) -> String {
        format!(
            "(({}, {}), ({}, {}))",
            self.top, self.bottom, self.left, self.right
        )
    }
}

/// Prints the canonical form `top,bottom:left,right`, which parses back to
/// the same value.
impl fmt::Display for Cropping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{}:{},{}",
            self.top, self.bottom, self.left, self.right
        )
    }
}

impl FromStr for Cropping {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let fail = |reason: String| SpecError {
            spec: spec.to_owned(),
            reason,
        };
        let text = spec.trim();
        if text.starts_with(['(', '[']) {
            TupleParser::new(text).parse().map_err(fail)
        } else {
            parse_colon_form(text).map_err(fail)
        }
    }
}

/// One side of the crop before it is known whether it is symmetric.
#[derive(Clone, Copy)]
enum Group {
    One(usize),
    Two(usize, usize),
}

impl Group {
    fn pair(self) -> (usize, usize) {
        match self {
            Group::One(n) => (n, n),
            Group::Two(a, b) => (a, b),
        }
    }
}

fn parse_number(text: &str) -> Result<usize, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("an empty number".into());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a non-negative integer"));
    }
    text.parse()
        .map_err(|_| format!("{text} is too large a number"))
}

fn parse_group(text: &str) -> Result<Group, String> {
    let parts: Vec<&str> = text.split(',').collect();
    match parts.as_slice() {
        [n] => Ok(Group::One(parse_number(n)?)),
        [a, b] => Ok(Group::Two(parse_number(a)?, parse_number(b)?)),
        _ => Err(format!("{} numbers in one group {text:?}", parts.len())),
    }
}

/// `N`, `H,W`, `T,B:L,R` and the mixed `T:L,R` / `T,B:L`.
fn parse_colon_form(text: &str) -> Result<Cropping, String> {
    let groups: Vec<&str> = text.split(':').collect();
    match groups.as_slice() {
        [one] => match parse_group(one)? {
            Group::One(n) => Ok(Cropping::uniform(n)),
            Group::Two(h, w) => Ok(Cropping::from_groups((h, h), (w, w))),
        },
        [height, width] => Ok(Cropping::from_groups(
            parse_group(height)?.pair(),
            parse_group(width)?.pair(),
        )),
        _ => Err(format!("{} groups separated by ':'", groups.len())),
    }
}

/// A Python tuple (or list) literal as written for Keras' `cropping=`.
enum Node {
    Int(usize),
    Pair(Box<Node>, Box<Node>),
}

struct TupleParser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> TupleParser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn parse(mut self) -> Result<Cropping, String> {
        let node = self.node(0)?;
        self.skip_spaces();
        if self.pos < self.text.len() {
            return Err(format!("unexpected {:?}", &self.text[self.pos..]));
        }
        match node {
            Node::Int(n) => Ok(Cropping::uniform(n)),
            Node::Pair(h, w) => match (*h, *w) {
                (Node::Int(h), Node::Int(w)) => Ok(Cropping::from_groups((h, h), (w, w))),
                (h, w) => Ok(Cropping::from_groups(
                    Self::group(h)?.pair(),
                    Self::group(w)?.pair(),
                )),
            },
        }
    }

    fn group(node: Node) -> Result<Group, String> {
        match node {
            Node::Int(n) => Ok(Group::One(n)),
            Node::Pair(a, b) => match (*a, *b) {
                (Node::Int(a), Node::Int(b)) => Ok(Group::Two(a, b)),
                _ => Err("a tuple nested too deeply".into()),
            },
        }
    }

    fn skip_spaces(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        self.skip_spaces();
        match self.peek() {
            Some(c) if c == want => {
                self.pos += c.len_utf8();
                Ok(())
            }
            Some(c) => Err(format!("{c:?} where {want:?} was expected")),
            None => Err(format!("the end where {want:?} was expected")),
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, String> {
        self.skip_spaces();
        let close = match self.peek() {
            Some('(') => ')',
            Some('[') => ']',
            _ => return self.number().map(Node::Int),
        };
        if depth >= 2 {
            return Err("a tuple nested too deeply".into());
        }
        self.pos += 1;
        let first = self.node(depth + 1)?;
        self.expect(',')?;
        let second = self.node(depth + 1)?;
        self.expect(close)?;
        Ok(Node::Pair(Box::new(first), Box::new(second)))
    }

    fn number(&mut self) -> Result<usize, String> {
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if len == 0 {
            return match rest.chars().next() {
                Some(c) => Err(format!("{c:?} where a number was expected")),
                None => Err("the end where a number was expected".into()),
            };
        }
        self.pos += len;
        parse_number(&rest[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(spec: &str) -> Cropping {
        spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    #[test]
    fn every_documented_form_parses_to_the_keras_value() {
        let full = Cropping::from_groups((2, 3), (4, 5));
        assert_eq!(crop("2"), Cropping::uniform(2));
        assert_eq!(crop("2,4"), Cropping::from_groups((2, 2), (4, 4)));
        assert_eq!(crop("2,3:4,5"), full);
        assert_eq!(crop("2:4,5"), Cropping::from_groups((2, 2), (4, 5)));
        assert_eq!(crop("2,3:4"), Cropping::from_groups((2, 3), (4, 4)));
        assert_eq!(crop("((2,3),(4,5))"), full);
        assert_eq!(crop(" ( (2, 3) , (4, 5) ) "), full);
        assert_eq!(crop("[[2, 3], [4, 5]]"), full);
        assert_eq!(crop("(2,4)"), Cropping::from_groups((2, 2), (4, 4)));
        assert_eq!(crop("(2,(4,5))"), Cropping::from_groups((2, 2), (4, 5)));
        assert_eq!(crop("((2,3),4)"), Cropping::from_groups((2, 3), (4, 4)));
        assert_eq!(crop("0"), Cropping::default());
        assert_eq!(crop(" 2 , 4 "), Cropping::from_groups((2, 2), (4, 4)));
    }

    #[test]
    fn display_is_canonical_and_parses_back() {
        for spec in ["2", "2,4", "2,3:4,5", "2:4,5", "((1,0),(0,7))"] {
            let c = crop(spec);
            assert_eq!(crop(&c.to_string()), c);
            assert_eq!(crop(&c.to_keras()), c);
        }
        assert_eq!(crop("2:4,5").to_string(), "2,2:4,5");
    }

    #[test]
    fn malformed_specs_are_refused_with_the_reason() {
        let cases = [
            ("", "empty number"),
            ("-1", "not a non-negative integer"),
            ("1.5", "not a non-negative integer"),
            ("2,3,4", "3 numbers"),
            ("1:2:3", "3 groups"),
            ("2,", "empty number"),
            (":2", "empty number"),
            ("2x", "not a non-negative integer"),
            ("(2,3,4)", "where ')' was expected"),
            ("(2)", "where ',' was expected"),
            ("((1,(2,3)),4)", "nested too deeply"),
            ("(2,3", "the end where ')' was expected"),
            ("(2,3]", "']' where ')'"),
            ("(2,3) x", "unexpected"),
            ("(-2,3)", "where a number was expected"),
            ("99999999999999999999999", "too large"),
        ];
        for (spec, reason) in cases {
            let err = spec.parse::<Cropping>().expect_err(spec).to_string();
            assert!(err.contains(reason), "{spec:?}: {err}");
            assert!(err.contains(&format!("{spec:?}")), "{spec:?}: {err}");
        }
    }
}
