//! The `--crop` grammar. A spec is read as the Python value Keras would be
//! given for `cropping=` ([`CropSpec`]: an int, or a tuple or list of
//! values), and each layer then decides, by Keras' own rules, what that
//! value means for it: [`CropSpec::sides_1d`], [`CropSpec::to_2d`] and
//! [`CropSpec::sides_3d`]. [`Cropping`] is the `Cropping2D` value, which
//! parses straight from a spec.

use std::fmt;
use std::str::FromStr;

/// What a crop removes from one axis: `begin` entries at its start and
/// `end` at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sides {
    pub begin: usize,
    pub end: usize,
}

impl Sides {
    pub fn new(begin: usize, end: usize) -> Self {
        Self { begin, end }
    }

    /// The same at both ends.
    pub fn symmetric(n: usize) -> Self {
        Self::new(n, n)
    }

    /// Both ends together, or `None` past `usize::MAX` (which leaves nothing).
    pub fn total(self) -> Option<usize> {
        self.begin.checked_add(self.end)
    }
}

/// Prints `(begin, end)`, as Keras prints the pair.
impl fmt::Display for Sides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.begin, self.end)
    }
}

/// How many rows and columns to remove from each side, as Keras' `Cropping2D`
/// stores it: `((top, bottom), (left, right))`.
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

    /// The rows' and the columns' [`Sides`].
    pub fn sides(&self) -> [Sides; 2] {
        [
            Sides::new(self.top, self.bottom),
            Sides::new(self.left, self.right),
        ]
    }

    /// The crop as Keras prints `layer.cropping`: `((top, bottom), (left, right))`.
    pub fn to_keras(&self) -> String {
        keras_sides(&self.sides())
    }
}

/// Prints the canonical form `top,bottom:left,right`, which parses back to
/// the same value.
impl fmt::Display for Cropping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&canonical_sides(&self.sides()))
    }
}

impl FromStr for Cropping {
    type Err = SpecError;

    /// The `Cropping2D` value of a spec, as [`CropSpec::to_2d`] reads it.
    fn from_str(spec: &str) -> Result<Self, SpecError> {
        spec.parse::<CropSpec>()?.to_2d()
    }
}

/// Sides as Keras prints a tuple of pairs: `((1, 2), (3, 4))`.
pub(crate) fn keras_sides(sides: &[Sides]) -> String {
    let parts: Vec<String> = sides.iter().map(Sides::to_string).collect();
    format!("({})", parts.join(", "))
}

/// Sides in rcrop's canonical spec form: `1,2:3,4`.
pub(crate) fn canonical_sides(sides: &[Sides]) -> String {
    let parts: Vec<String> = sides
        .iter()
        .map(|s| format!("{},{}", s.begin, s.end))
        .collect();
    parts.join(":")
}

/// A `--crop` value read as the Python value it stands for: `2` is the int
/// 2, `(2)` too; `2,4`, `(2, 4)` and `[2, 4]` are a tuple of two ints;
/// `1,2:3,4:5,6` is a tuple of one group per dimension, each group read the
/// same way (`1,2` a pair, `3` an int).
///
/// ```
/// use rcrop::{CropSpec, Sides};
/// let spec: CropSpec = "((1), (2, 3), 4)".parse().unwrap();
/// assert_eq!(spec.to_string(), "(1, (2, 3), 4)");
/// assert_eq!(spec.sides_3d().unwrap(), [Sides::new(1, 1), Sides::new(2, 3), Sides::new(4, 4)]);
/// assert!(spec.to_2d().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CropSpec {
    Int(usize),
    Tuple(Vec<CropSpec>),
    /// The colon form: a tuple of one group per dimension, so never one
    /// dimension's `(begin, end)`.
    Groups(Vec<CropSpec>),
}

/// A `--crop` value that is not a Python value of the accepted kind, or
/// that the layer refuses, as Keras refuses it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(String);

impl SpecError {
    pub(crate) fn new(message: impl ToString) -> Self {
        Self(message.to_string())
    }
}

const EXPECTED_SYNTAX: &str = "expected non-negative integers: N, A,B, \
     groups of one or two numbers separated by ':' (T,B:L,R), or a Python tuple such as ((T,B),(L,R))";

/// Python prints a 1-tuple as `(n,)`.
impl fmt::Display for CropSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CropSpec::Int(n) => write!(f, "{n}"),
            CropSpec::Tuple(items) | CropSpec::Groups(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                if items.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl FromStr for CropSpec {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let fail = |reason: String| {
            SpecError::new(format!("{reason} in crop spec {spec:?}; {EXPECTED_SYNTAX}"))
        };
        if spec.contains(':') {
            let groups = spec
                .split(':')
                .map(|group| SpecParser::new(group).parse())
                .collect::<Result<Vec<_>, _>>()
                .map_err(fail)?;
            return Ok(CropSpec::Groups(groups));
        }
        SpecParser::new(spec).parse().map_err(fail)
    }
}

impl CropSpec {
    fn refuse(&self, layer: &str, expected: &str) -> SpecError {
        SpecError::new(format!(
            "{layer} refuses cropping={self}, as Keras does; it takes {expected}"
        ))
    }

    /// Keras' `standardize_tuple(value, 2)`: an int `n` is `(n, n)`, a
    /// tuple must hold two ints.
    fn pair(&self) -> Option<Sides> {
        match self {
            CropSpec::Int(n) => Some(Sides::symmetric(*n)),
            CropSpec::Tuple(items) => match items.as_slice() {
                [CropSpec::Int(a), CropSpec::Int(b)] => Some(Sides::new(*a, *b)),
                _ => None,
            },
            CropSpec::Groups(_) => None,
        }
    }

    /// One pair per dimension, as `Cropping2D` and `Cropping3D` read
    /// `cropping=`: an int crops every side alike; a tuple holds one entry
    /// per dimension, an int (symmetric) or a pair.
    fn per_dimension<const N: usize>(&self) -> Option<[Sides; N]> {
        match self {
            CropSpec::Int(n) => Some([Sides::symmetric(*n); N]),
            CropSpec::Tuple(items) | CropSpec::Groups(items) if items.len() == N => {
                let mut out = [Sides::default(); N];
                for (slot, item) in out.iter_mut().zip(items) {
                    *slot = item.pair()?;
                }
                Some(out)
            }
            CropSpec::Tuple(_) | CropSpec::Groups(_) => None,
        }
    }

    /// The value for `Cropping1D`: an int `n` is `(n, n)`; a tuple of two
    /// ints is `(begin, end)`.
    pub fn sides_1d(&self) -> Result<Sides, SpecError> {
        self.pair().ok_or_else(|| {
            self.refuse(
                "Cropping1D",
                "an int or a tuple of 2 ints (begin, end): N or B,E, one group (no ':')",
            )
        })
    }

    /// The value for `Cropping2D`.
    pub fn to_2d(&self) -> Result<Cropping, SpecError> {
        let [rows, cols] = self.per_dimension::<2>().ok_or_else(|| {
            self.refuse(
                "Cropping2D",
                "an int, a tuple of 2 ints or a tuple of 2 pairs of ints: N, H,W or T,B:L,R",
            )
        })?;
        Ok(Cropping::from_groups(
            (rows.begin, rows.end),
            (cols.begin, cols.end),
        ))
    }

    /// The value for `Cropping3D`.
    pub fn sides_3d(&self) -> Result<[Sides; 3], SpecError> {
        self.per_dimension::<3>().ok_or_else(|| {
            self.refuse(
                "Cropping3D",
                "an int, a tuple of 3 ints or a tuple of 3 pairs of ints: N, A,B,C or A1,A2:B1,B2:C1,C2",
            )
        })
    }
}

/// How deep tuples may nest: far more than any layer takes, few enough
/// that a hostile spec cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// A Python expression of ints, tuples and lists: `2`, `(2)`, `2,4`,
/// `((1,2),[3,4])`, trailing commas as Python allows them.
struct SpecParser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> SpecParser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn parse(mut self) -> Result<CropSpec, String> {
        let value = self.sequence(None, 0)?;
        self.skip_spaces();
        match self.peek() {
            None => Ok(value),
            Some(_) => Err(format!("unexpected {:?}", &self.text[self.pos..])),
        }
    }

    fn skip_spaces(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// Items separated by commas up to `close` (or the end): one item and
    /// no comma is the item itself, unless in a list; otherwise a tuple.
    fn sequence(&mut self, close: Option<char>, depth: usize) -> Result<CropSpec, String> {
        if depth > MAX_DEPTH {
            return Err("tuples nested too deeply".into());
        }
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.skip_spaces();
            let at_close = match (self.peek(), close) {
                (None, None) => true,
                (Some(c), Some(want)) => c == want,
                _ => false,
            };
            if at_close {
                break;
            }
            items.push(self.atom(depth)?);
            self.skip_spaces();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    comma = true;
                }
                Some(c) if Some(c) == close => break,
                None if close.is_none() => break,
                Some(c) => {
                    let end = close.map_or("the end".to_owned(), |c| format!("{c:?}"));
                    return Err(format!("{c:?} where ',' or {end} was expected"));
                }
                None => {
                    return Err(format!(
                        "the end where {:?} was expected",
                        close.unwrap_or(')')
                    ));
                }
            }
        }
        let list = close == Some(']');
        match (items.len(), comma, list) {
            (0, _, _) if close.is_none() => Err("an empty number".into()),
            (1, false, false) => Ok(items.remove(0)),
            _ => Ok(CropSpec::Tuple(items)),
        }
    }

    fn atom(&mut self, depth: usize) -> Result<CropSpec, String> {
        let close = match self.peek() {
            Some('(') => ')',
            Some('[') => ']',
            _ => return self.number().map(CropSpec::Int),
        };
        self.pos += 1;
        let value = self.sequence(Some(close), depth + 1)?;
        self.skip_spaces();
        match self.peek() {
            Some(c) if c == close => {
                self.pos += 1;
                Ok(value)
            }
            Some(c) => Err(format!("{c:?} where {close:?} was expected")),
            None => Err(format!("the end where {close:?} was expected")),
        }
    }

    fn number(&mut self) -> Result<usize, String> {
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if len == 0 {
            return match rest.chars().next() {
                Some(',') => Err("an empty number".into()),
                Some(c) => Err(format!("{c:?} where a non-negative integer was expected")),
                None => Err("an empty number".into()),
            };
        }
        self.pos += len;
        rest[..len]
            .parse()
            .map_err(|_| format!("{} is too large a number", &rest[..len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> CropSpec {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn crop(text: &str) -> Cropping {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn specs_read_as_the_python_value() {
        let cases = [
            ("2", "2"),
            ("(2)", "2"),
            ("((2))", "2"),
            ("2,4", "(2, 4)"),
            ("(2,4)", "(2, 4)"),
            ("[2, 4]", "(2, 4)"),
            ("(2,4,)", "(2, 4)"),
            ("2,", "(2,)"),
            ("(2,)", "(2,)"),
            ("[2]", "(2,)"),
            ("((1),(2))", "(1, 2)"),
            ("(1,(2,3))", "(1, (2, 3))"),
            ("2,3:4,5", "((2, 3), (4, 5))"),
            ("2:4,5", "(2, (4, 5))"),
            ("1,2:3,4:5,6", "((1, 2), (3, 4), (5, 6))"),
            ("(1):(2)", "(1, 2)"),
            (" ( (2, 3) , (4, 5) ) ", "((2, 3), (4, 5))"),
        ];
        for (text, python) in cases {
            assert_eq!(spec(text).to_string(), python, "{text}");
        }
    }

    #[test]
    fn every_cropping2d_form_parses_to_the_keras_value() {
        let full = Cropping::from_groups((2, 3), (4, 5));
        assert_eq!(crop("2"), Cropping::uniform(2));
        assert_eq!(crop("(2)"), Cropping::uniform(2));
        assert_eq!(crop("2,4"), Cropping::from_groups((2, 2), (4, 4)));
        assert_eq!(crop("2,3:4,5"), full);
        assert_eq!(crop("2:4,5"), Cropping::from_groups((2, 2), (4, 5)));
        assert_eq!(crop("2,3:4"), Cropping::from_groups((2, 3), (4, 4)));
        assert_eq!(crop("((2,3),(4,5))"), full);
        assert_eq!(crop("[[2, 3], [4, 5]]"), full);
        assert_eq!(crop("((1),(2))"), Cropping::from_groups((1, 1), (2, 2)));
        assert_eq!(crop("(2,(4,5))"), Cropping::from_groups((2, 2), (4, 5)));
        assert_eq!(crop("((2,3),4)"), Cropping::from_groups((2, 3), (4, 4)));
        assert_eq!(crop("0"), Cropping::default());
        assert_eq!(crop(" 2 , 4 "), Cropping::from_groups((2, 2), (4, 4)));
    }

    #[test]
    fn each_layer_reads_the_value_as_keras_does() {
        assert_eq!(spec("2").sides_1d().unwrap(), Sides::new(2, 2));
        assert_eq!(spec("2,4").sides_1d().unwrap(), Sides::new(2, 4));
        assert_eq!(spec("(2, 4)").sides_1d().unwrap(), Sides::new(2, 4));
        for refused in ["2:4", "1,2,3", "(2,)", "((1,2),3)"] {
            assert!(spec(refused).sides_1d().is_err(), "{refused}");
        }
        let s = |b, e| Sides::new(b, e);
        assert_eq!(spec("2").sides_3d().unwrap(), [s(2, 2); 3]);
        assert_eq!(
            spec("1,2,3").sides_3d().unwrap(),
            [s(1, 1), s(2, 2), s(3, 3)]
        );
        assert_eq!(
            spec("1,2:3,4:5,6").sides_3d().unwrap(),
            [s(1, 2), s(3, 4), s(5, 6)]
        );
        assert_eq!(
            spec("((1,2),3,(5,6))").sides_3d().unwrap(),
            [s(1, 2), s(3, 3), s(5, 6)]
        );
        for refused in ["2,4", "1,2:3,4", "(1,2,3,4)", "((1,2,3),2,3)"] {
            assert!(spec(refused).sides_3d().is_err(), "{refused}");
        }
        for refused in ["1,2,3", "(2,)", "()", "[]", "((1,(2,3)),4)", "1,2:3,4:5,6"] {
            let err = spec(refused).to_2d().unwrap_err().to_string();
            assert!(err.contains("Cropping2D refuses cropping="), "{err}");
        }
    }

    #[test]
    fn display_is_canonical_and_parses_back() {
        for text in ["2", "2,4", "2,3:4,5", "2:4,5", "((1,0),(0,7))"] {
            let c = crop(text);
            assert_eq!(crop(&c.to_string()), c);
            assert_eq!(crop(&c.to_keras()), c);
        }
        assert_eq!(crop("2:4,5").to_string(), "2,2:4,5");
    }

    #[test]
    fn malformed_specs_are_refused_with_the_reason() {
        let cases = [
            ("", "empty number"),
            ("-1", "where a non-negative integer"),
            ("1.5", "'.' where ','"),
            (",2", "empty number"),
            (":2", "empty number"),
            ("2x", "'x' where ','"),
            ("(2,3", "the end where ')'"),
            ("(2,3]", "']' where ',' or ')'"),
            ("(2,3) x", "'x' where ','"),
            ("(-2,3)", "where a non-negative integer"),
            ("(,)", "empty number"),
            ("99999999999999999999999", "too large"),
        ];
        for (text, reason) in cases {
            let err = text.parse::<CropSpec>().expect_err(text).to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
            assert!(err.contains(&format!("{text:?}")), "{text:?}: {err}");
        }
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(deep.parse::<CropSpec>().is_err());
    }
}
