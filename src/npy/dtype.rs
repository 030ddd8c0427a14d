//! NumPy dtypes as `numpy.load` reads a header's `descr` and `numpy.save`
//! writes it back: every spelling `numpy.dtype` accepts for the fixed-size
//! types (`'f4'`, `'=f4'`, `'float32'`, `'i4,f8'`, ...), records with
//! padding, titles and empty names, and subarrays nested to any depth; read
//! into one model and written in NumPy's own spelling (`dtype.descr`).
//!
//! Spellings that depend on the platform follow 64-bit Linux on x86-64,
//! where NumPy's `long` and `intp` are 8 bytes and `longdouble` is 16.

use super::Literal;

/// Deeper nesting of records and subarrays than this is refused.
const MAX_DEPTH: usize = 32;

/// NumPy refuses dtypes of more bytes than a C `int` holds.
const MAX_ITEMSIZE: usize = i32::MAX as usize;

/// NumPy's limit on the dimensions of a subarray.
const MAX_DIMS: usize = 64;

/// One fixed-size NumPy type, as `dtype.str` spells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Scalar {
    /// `<`, `>` or `|` (byte order not applicable).
    order: char,
    /// `b` (bool), `i`, `u`, `f`, `c`, `S`, `U`, `V`, `M` or `m`.
    kind: char,
    /// Bytes per element.
    size: usize,
    /// A datetime's unit with its brackets, `[ns]`, or empty.
    unit: String,
}

impl Scalar {
    /// The byte order NumPy writes for this type: `|` where byte order
    /// means nothing, the native `<` where none was given.
    fn new(order: char, kind: char, size: usize, unit: String) -> Self {
        let single_byte =
            matches!(kind, 'b' | 'S' | 'V') || (matches!(kind, 'i' | 'u') && size == 1);
        let order = if single_byte {
            '|'
        } else if order == '>' {
            '>'
        } else {
            '<'
        };
        Self {
            order,
            kind,
            size,
            unit,
        }
    }

    /// The type string, e.g. `<f4`, `|S5`, `<U3` or `<M8[ns]`.
    fn type_str(&self) -> String {
        let count = if self.kind == 'U' {
            self.size / 4
        } else {
            self.size
        };
        format!("{}{}{count}{}", self.order, self.kind, self.unit)
    }

    /// `S0`, `U0` and `V0`: a flexible type whose size a tuple may give.
    fn is_unsized(&self) -> bool {
        self.size == 0 && matches!(self.kind, 'S' | 'U' | 'V')
    }
}

/// A dtype of fixed size: a scalar, a subarray of a dtype, or a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Model {
    Scalar(Scalar),
    Subarray { base: Box<Model>, shape: Vec<usize> },
    Record { fields: Vec<Field>, itemsize: usize },
}

/// A named field of a record, at `offset` bytes into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Field {
    name: String,
    title: Option<Literal>,
    dtype: Model,
    offset: usize,
}

/// Why a `descr` cannot be read.
pub(super) enum DescrError {
    /// It holds Python objects.
    Object,
    /// Anything else, and why.
    Invalid(String),
}

fn invalid(reason: impl Into<String>) -> DescrError {
    DescrError::Invalid(reason.into())
}

impl Model {
    /// Reads a header's `descr` as `numpy.lib.format.descr_to_dtype` does.
    /// A subarray dtype for the whole array (`'(2,3)f4'`) is read as its
    /// base, as `numpy.load` reads it from a file: `numpy.fromfile` counts
    /// the elements of the base, and the array takes the header's shape.
    pub(super) fn from_descr(descr: &Literal) -> Result<Self, DescrError> {
        let mut model = from_descr(descr, 0)?;
        while let Model::Subarray { base, .. } = model {
            model = *base;
        }
        Ok(model)
    }

    /// Bytes per element.
    pub(super) fn itemsize(&self) -> usize {
        match self {
            Model::Scalar(s) => s.size,
            Model::Subarray { base, shape } => shape.iter().product::<usize>() * base.itemsize(),
            Model::Record { itemsize, .. } => *itemsize,
        }
    }

    /// The type string of a scalar dtype, e.g. `<u2`.
    pub(super) fn type_str(&self) -> Option<String> {
        match self {
            Model::Scalar(s) => Some(s.type_str()),
            _ => None,
        }
    }

    /// The description `numpy.save` writes (`dtype.descr`, which for a
    /// scalar is `dtype.str`): gaps in a record become `('', '|V<n>')`.
    pub(super) fn descr(&self) -> Literal {
        match self {
            Model::Scalar(s) => Literal::Str(s.type_str()),
            Model::Subarray { base, shape } => {
                Literal::Tuple(vec![base.descr(), shape_literal(shape)])
            }
            Model::Record { fields, itemsize } => {
                let mut items = Vec::with_capacity(fields.len());
                let mut end = 0;
                for field in fields {
                    if field.offset > end {
                        items.push(padding(field.offset - end));
                    }
                    let name = match &field.title {
                        Some(title) => {
                            Literal::Tuple(vec![title.clone(), Literal::Str(field.name.clone())])
                        }
                        None => Literal::Str(field.name.clone()),
                    };
                    items.push(Literal::Tuple(match &field.dtype {
                        Model::Subarray { base, shape } => {
                            vec![name, base.descr(), shape_literal(shape)]
                        }
                        dtype => vec![name, dtype.descr()],
                    }));
                    end = field.offset + field.dtype.itemsize();
                }
                if *itemsize > end {
                    items.push(padding(itemsize - end));
                }
                Literal::List(items)
            }
        }
    }
}

fn padding(len: usize) -> Literal {
    Literal::Tuple(vec![
        Literal::Str(String::new()),
        Literal::Str(format!("|V{len}")),
    ])
}

fn shape_literal(shape: &[usize]) -> Literal {
    Literal::Tuple(shape.iter().map(|&d| Literal::Int(d as i128)).collect())
}

fn from_descr(descr: &Literal, depth: usize) -> Result<Model, DescrError> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!("dtypes nested deeper than {MAX_DEPTH}")));
    }
    match descr {
        Literal::Str(s) => from_type_str(s, depth),
        // `descr_to_dtype` reads a tuple as (dtype, shape) and ignores the rest.
        Literal::Tuple(parts) if parts.len() >= 2 => {
            with_shape(from_descr(&parts[0], depth + 1)?, &parts[1])
        }
        Literal::List(fields) => record(fields, depth),
        other => Err(invalid(format!(
            "{other} is neither a type string, a (dtype, shape) tuple nor a list of fields"
        ))),
    }
}

/// `numpy.dtype((base, value))`: a flexible type of `value` characters or
/// bytes, or a subarray of shape `value`.
fn with_shape(base: Model, value: &Literal) -> Result<Model, DescrError> {
    if let Model::Scalar(s) = &base
        && s.is_unsized()
    {
        let n = match value {
            Literal::Int(n) => usize::try_from(*n).ok(),
            Literal::Bool(b) => Some(usize::from(*b)),
            _ => None,
        }
        .ok_or_else(|| invalid(format!("{value} is not a size for {}", s.type_str())))?;
        let size = if s.kind == 'U' {
            n.checked_mul(4)
        } else {
            Some(n)
        }
        .filter(|&n| n <= MAX_ITEMSIZE)
        .ok_or_else(|| invalid(format!("the size {value} is too large")))?;
        return Ok(Model::Scalar(Scalar { size, ..s.clone() }));
    }
    let bad = || invalid(format!("{value} is not a valid subarray shape"));
    let dims: Vec<usize> = match value {
        Literal::Int(_) => vec![dim(value).ok_or_else(bad)?],
        Literal::Tuple(items) if items.is_empty() => return Ok(base),
        Literal::Tuple(items) | Literal::List(items) if !items.is_empty() => items
            .iter()
            .map(|d| dim(d).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        _ => return Err(bad()),
    };
    if dims.len() > MAX_DIMS {
        return Err(bad());
    }
    let fits = dims
        .iter()
        .try_fold(base.itemsize(), |acc, &d| acc.checked_mul(d))
        .is_some_and(|n| n <= MAX_ITEMSIZE);
    if !fits {
        return Err(invalid(format!("a subarray of shape {value} is too large")));
    }
    Ok(Model::Subarray {
        base: Box::new(base),
        shape: dims,
    })
}

/// One dimension of a subarray: an int from 0 to a C `int`'s largest.
/// Where a field of `size` bytes at `offset` ends, within the bound on
/// record sizes.
/// The fields of a record laid out one after another, with no gaps but
/// the padding a `descr` names.
#[derive(Default)]
struct Packed {
    fields: Vec<Field>,
    offset: usize,
}

impl Packed {
    /// Lays out `dtype` next: as a field of a name (and title), or, with
    /// none, as padding.
    fn place(
        &mut self,
        named: Option<(String, Option<Literal>)>,
        dtype: Model,
    ) -> Result<(), DescrError> {
        let size = dtype.itemsize();
        if let Some((name, title)) = named {
            self.fields.push(Field {
                name,
                title,
                dtype,
                offset: self.offset,
            });
        }
        self.offset = field_end(self.offset, size)?;
        Ok(())
    }

    fn into_record(self) -> Model {
        Model::Record {
            fields: self.fields,
            itemsize: self.offset,
        }
    }
}

fn field_end(offset: usize, size: usize) -> Result<usize, DescrError> {
    offset
        .checked_add(size)
        .filter(|&n| n <= MAX_ITEMSIZE)
        .ok_or_else(|| invalid("the record is too large"))
}

fn dim(value: &Literal) -> Option<usize> {
    match value {
        Literal::Int(n) => usize::try_from(*n).ok().filter(|&n| n <= MAX_ITEMSIZE),
        _ => None,
    }
}

/// A list of fields, as `descr_to_dtype` reads it: `('', '|V<n>')` and
/// other unnamed void fields are padding; the rest follow one another.
fn record(items: &[Literal], depth: usize) -> Result<Model, DescrError> {
    let mut fields = Packed::default();
    for item in items {
        let (Literal::Tuple(parts) | Literal::List(parts)) = item else {
            return Err(invalid(format!("the field {item} is not a tuple")));
        };
        let (name, dtype) = match parts.as_slice() {
            [name, sub] => (name, from_descr(sub, depth + 1)?),
            [name, sub, shape] => (name, with_shape(from_descr(sub, depth + 1)?, shape)?),
            _ => {
                return Err(invalid(format!(
                    "the field {item} has {} parts",
                    parts.len()
                )));
            }
        };
        let is_padding = *name == Literal::Str(String::new())
            && matches!(
                &dtype,
                Model::Subarray { .. } | Model::Scalar(Scalar { kind: 'V', .. })
            );
        let named = if is_padding {
            None
        } else {
            let (title, name) = field_name(name)?;
            check_unique(&fields.fields, &name, title.as_ref())?;
            Some((name, title))
        };
        fields.place(named, dtype)?;
    }
    Ok(fields.into_record())
}

/// A field's name, or its `(title, name)` pair; a title of `None` is none.
fn field_name(name: &Literal) -> Result<(Option<Literal>, String), DescrError> {
    match name {
        Literal::Str(s) => Ok((None, s.clone())),
        Literal::Tuple(pair) => match pair.as_slice() {
            [title, Literal::Str(s)] => {
                let title = (*title != Literal::None).then(|| title.clone());
                Ok((title, s.clone()))
            }
            [_, other] => Err(invalid(format!("the field name {other} is not a string"))),
            _ => Err(invalid(format!(
                "the field name {name} is not a (title, name) pair"
            ))),
        },
        other => Err(invalid(format!("the field name {other} is not a string"))),
    }
}

/// Names and titles share one namespace, as in NumPy.
fn check_unique(fields: &[Field], name: &str, title: Option<&Literal>) -> Result<(), DescrError> {
    let taken = |key: &Literal| {
        fields
            .iter()
            .any(|f| Literal::Str(f.name.clone()) == *key || f.title.as_ref() == Some(key))
    };
    let name_lit = Literal::Str(name.to_owned());
    if taken(&name_lit) {
        return Err(invalid(format!("the field name {name_lit} is used twice")));
    }
    if let Some(title) = title
        && (taken(title) || *title == name_lit)
    {
        return Err(invalid(format!("the field title {title} is used twice")));
    }
    Ok(())
}

/// `numpy.dtype(s)` for a string: a comma-separated list of formats, or one
/// type, by code (`'<f4'`, `'d'`) or by name (`'float32'`).
fn from_type_str(s: &str, depth: usize) -> Result<Model, DescrError> {
    if is_comma_string(s) {
        return comma_string(s, depth);
    }
    let unknown = || invalid(format!("{s:?} is not a type NumPy knows"));
    let (order, body) = match s.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &s[1..]),
        _ => ('=', s),
    };
    if let Some(rest) = body.strip_prefix("datetime64") {
        return datetime('M', order, rest).ok_or_else(unknown);
    }
    if let Some(rest) = body.strip_prefix("timedelta64") {
        return datetime('m', order, rest).ok_or_else(unknown);
    }
    if order == '='
        && body == s
        && let Some(&(_, kind, size)) = NAMES.iter().find(|(name, ..)| *name == body)
    {
        return scalar(order, kind, size, String::new());
    }
    let mut chars = body.chars();
    let code = chars.next().ok_or_else(unknown)?;
    let rest = chars.as_str();
    if code == 'O' || code == 'T' {
        return Err(DescrError::Object);
    }
    if matches!(code, 'M' | 'm') {
        let rest = if rest.is_empty() {
            rest
        } else {
            rest.strip_prefix('8').ok_or_else(unknown)?
        };
        return datetime(code, order, rest).ok_or_else(unknown);
    }
    if rest.is_empty() {
        let &(_, kind, size) = CODES
            .iter()
            .find(|(c, ..)| *c == code)
            .ok_or_else(unknown)?;
        return scalar(order, kind, size, String::new());
    }
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let n: usize = rest
        .parse()
        .ok()
        .filter(|&n| n <= MAX_ITEMSIZE)
        .ok_or_else(|| invalid(format!("the size in {s:?} is too large")))?;
    let size = match code {
        'b' if n == 1 => return scalar(order, 'b', 1, String::new()),
        'i' | 'u' if matches!(n, 1 | 2 | 4 | 8) => n,
        'f' if matches!(n, 2 | 4 | 8 | 16) => n,
        'c' if matches!(n, 8 | 16 | 32) => n,
        'S' | 'a' | 'V' => n,
        'U' => n
            .checked_mul(4)
            .filter(|&n| n <= MAX_ITEMSIZE)
            .ok_or_else(|| invalid(format!("the size in {s:?} is too large")))?,
        _ => return Err(unknown()),
    };
    let kind = if code == 'a' { 'S' } else { code };
    scalar(order, kind, size, String::new())
}

fn scalar(order: char, kind: char, size: usize, unit: String) -> Result<Model, DescrError> {
    if kind == 'O' {
        return Err(DescrError::Object);
    }
    Ok(Model::Scalar(Scalar::new(order, kind, size, unit)))
}

/// A datetime64 (`M`) or timedelta64 (`m`) after its code or name: nothing
/// (generic), or a unit in brackets with an optional multiplier, `[10ns]`.
fn datetime(kind: char, order: char, rest: &str) -> Option<Model> {
    if rest.is_empty() {
        return Some(Model::Scalar(Scalar::new(order, kind, 8, String::new())));
    }
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = inner.len() - inner.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, unit) = inner.split_at(digits);
    if !UNITS.contains(&unit) {
        return None;
    }
    let count: u32 = if number.is_empty() {
        1
    } else {
        number.parse().ok().filter(|&n| n <= i32::MAX as u32)?
    };
    let unit = match (unit, count) {
        ("generic", 1) if number.is_empty() => String::new(),
        ("generic", _) => return None,
        (unit, 1) => format!("[{unit}]"),
        (unit, n) => format!("[{n}{unit}]"),
    };
    Some(Model::Scalar(Scalar::new(order, kind, 8, unit)))
}

const UNITS: [&str; 14] = [
    "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic",
];

/// One-character type codes: code, kind, bytes.
const CODES: [(char, char, usize); 27] = [
    ('c', 'S', 1),
    ('?', 'b', 1),
    ('b', 'i', 1),
    ('B', 'u', 1),
    ('h', 'i', 2),
    ('H', 'u', 2),
    ('i', 'i', 4),
    ('I', 'u', 4),
    ('l', 'i', 8),
    ('L', 'u', 8),
    ('q', 'i', 8),
    ('Q', 'u', 8),
    ('p', 'i', 8),
    ('P', 'u', 8),
    ('n', 'i', 8),
    ('N', 'u', 8),
    ('e', 'f', 2),
    ('f', 'f', 4),
    ('d', 'f', 8),
    ('g', 'f', 16),
    ('F', 'c', 8),
    ('D', 'c', 16),
    ('G', 'c', 32),
    ('S', 'S', 0),
    ('a', 'S', 0),
    ('U', 'U', 0),
    ('V', 'V', 0),
];

/// Type names `numpy.dtype` accepts (the string keys of `numpy.sctypeDict`
/// but the datetime names, read apart): name, kind, bytes.
const NAMES: [(&str, char, usize); 50] = [
    ("bool", 'b', 1),
    ("bool_", 'b', 1),
    ("byte", 'i', 1),
    ("ubyte", 'u', 1),
    ("short", 'i', 2),
    ("ushort", 'u', 2),
    ("intc", 'i', 4),
    ("uintc", 'u', 4),
    ("int", 'i', 8),
    ("int_", 'i', 8),
    ("uint", 'u', 8),
    ("long", 'i', 8),
    ("ulong", 'u', 8),
    ("longlong", 'i', 8),
    ("ulonglong", 'u', 8),
    ("intp", 'i', 8),
    ("uintp", 'u', 8),
    ("int8", 'i', 1),
    ("int16", 'i', 2),
    ("int32", 'i', 4),
    ("int64", 'i', 8),
    ("uint8", 'u', 1),
    ("uint16", 'u', 2),
    ("uint32", 'u', 4),
    ("uint64", 'u', 8),
    ("half", 'f', 2),
    ("single", 'f', 4),
    ("double", 'f', 8),
    ("float", 'f', 8),
    ("longdouble", 'f', 16),
    ("float16", 'f', 2),
    ("float32", 'f', 4),
    ("float64", 'f', 8),
    ("float128", 'f', 16),
    ("csingle", 'c', 8),
    ("cdouble", 'c', 16),
    ("complex", 'c', 16),
    ("clongdouble", 'c', 32),
    ("complex64", 'c', 8),
    ("complex128", 'c', 16),
    ("complex256", 'c', 32),
    ("a", 'S', 0),
    ("bytes", 'S', 0),
    ("bytes_", 'S', 0),
    ("str", 'U', 0),
    ("str_", 'U', 0),
    ("unicode", 'U', 0),
    ("void", 'V', 0),
    ("object", 'O', 8),
    ("object_", 'O', 8),
];

/// NumPy's test for a comma string: a leading repeat count or `()`, or a
/// comma outside square brackets.
fn is_comma_string(s: &str) -> bool {
    let b = s.as_bytes();
    let order = |c: u8| matches!(c, b'<' | b'>' | b'|' | b'=');
    if b.first().is_some_and(u8::is_ascii_digit)
        || (b.len() > 1 && order(b[0]) && b[1].is_ascii_digit())
        || (b.len() > 1 && b.starts_with(b"()"))
        || (b.len() > 3 && order(b[0]) && b[1..].starts_with(b"()"))
    {
        return true;
    }
    let mut depth = 0i64;
    for &c in b {
        match c {
            b',' if depth == 0 => return true,
            b'[' => depth += 1,
            b']' => depth -= 1,
            _ => {}
        }
    }
    false
}

/// A comma string such as `'i4,(2,3)f8'`, as NumPy's `_commastring` reads
/// it: fields `f0`, `f1`, ... of the formats listed, each with an optional
/// byte order and repeat count; without a comma, the one format alone.
fn comma_string(s: &str, depth: usize) -> Result<Model, DescrError> {
    let bad = || invalid(format!("the format string {s:?} is not one NumPy reads"));
    let mut rest = s;
    let mut items = Vec::new();
    let mut is_list = false;
    while !rest.is_empty() {
        let (item, after) = comma_item(rest).ok_or_else(bad)?;
        items.push(item);
        rest = after;
        if !rest.is_empty() {
            if rest.trim_end_matches(is_py_space).is_empty() {
                rest = "";
            } else {
                let trimmed = rest.trim_start_matches(is_py_space);
                rest = trimmed
                    .strip_prefix(',')
                    .ok_or_else(bad)?
                    .trim_start_matches(is_py_space);
                is_list = true;
            }
        }
        if items.len() > super::MAX_HEADER_CHARS {
            return Err(bad());
        }
    }
    let mut models = Vec::with_capacity(items.len());
    for (dtype, repeats) in items {
        if dtype.is_empty() || is_comma_string(&dtype) {
            return Err(bad());
        }
        let model = from_type_str(&dtype, depth + 1)?;
        models.push(match repeats {
            Some(repeats) => with_shape(model, &repeats)?,
            None => model,
        });
    }
    if !is_list {
        return models.pop().ok_or_else(bad);
    }
    let mut fields = Packed::default();
    for (i, dtype) in models.into_iter().enumerate() {
        fields.place(Some((format!("f{i}"), None)), dtype)?;
    }
    Ok(fields.into_record())
}

/// A leading byte-order character, if any, and what follows it.
fn take_order(s: &str) -> (Option<char>, &str) {
    match s.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), &s[1..]),
        _ => (None, s),
    }
}

fn is_py_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// One format of a comma string (NumPy's `format_re`): an optional byte
/// order, repeat count and byte order again, then the type. Returns the
/// type string (byte order applied) with the repeat count, and the rest.
fn comma_item(s: &str) -> Option<((String, Option<Literal>), &str)> {
    let (order1, s) = take_order(s);
    // ` *[(]?[ ,0-9]*[)]? *`
    let mut end = s.len() - s.trim_start_matches(' ').len();
    let b = s.as_bytes();
    if b.get(end) == Some(&b'(') {
        end += 1;
    }
    while b
        .get(end)
        .is_some_and(|c| *c == b' ' || *c == b',' || c.is_ascii_digit())
    {
        end += 1;
    }
    if b.get(end) == Some(&b')') {
        end += 1;
    }
    while b.get(end) == Some(&b' ') {
        end += 1;
    }
    let (repeats, s) = s.split_at(end);
    let (order2, s) = take_order(s);
    // `[A-Za-z0-9.?]*(?:\[[a-zA-Z0-9,.]+\])?`
    let name_len = s.len()
        - s.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '?')
            .len();
    let mut len = name_len;
    if let Some(tail) = s[name_len..].strip_prefix('[') {
        let inner = tail.len()
            - tail
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == ',' || c == '.')
                .len();
        if inner > 0 && tail[inner..].starts_with(']') {
            len += inner + 2;
        }
    }
    let (dtype, rest) = s.split_at(len);
    let order = match (order1, order2) {
        (o, None) | (None, o) => o,
        (Some(a), Some(b)) => {
            let native = |c| if c == '=' { '<' } else { c };
            if native(a) != native(b) {
                return None;
            }
            Some(a)
        }
    };
    let order = match order {
        Some('|' | '=' | '<') | None => String::new(),
        Some(c) => c.to_string(),
    };
    let repeats = if repeats.is_empty() {
        None
    } else {
        Some(super::literal::parse(repeats).ok()?)
    };
    Some(((order + dtype, repeats), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::literal::parse;

    fn saved(descr: &str) -> String {
        match Model::from_descr(&parse(descr).unwrap()) {
            Ok(model) => model.descr().to_string(),
            Err(DescrError::Object) => "object".into(),
            Err(DescrError::Invalid(why)) => format!("error: {why}"),
        }
    }

    /// Each pair is a `descr` and what `numpy.save` writes after
    /// `numpy.load` reads it (NumPy 2.4 on x86-64 Linux).
    #[test]
    fn spellings_are_written_as_numpy_writes_them() {
        for (descr, numpy) in [
            ("'f4'", "'<f4'"),
            ("'=f4'", "'<f4'"),
            ("'|f4'", "'<f4'"),
            ("'<u1'", "'|u1'"),
            ("'>b1'", "'|b1'"),
            ("'float32'", "'<f4'"),
            ("'>f'", "'>f4'"),
            ("'b'", "'|i1'"),
            ("'?'", "'|b1'"),
            ("'g'", "'<f16'"),
            ("'G'", "'<c32'"),
            ("'int'", "'<i8'"),
            ("'S'", "'|S0'"),
            ("'a5'", "'|S5'"),
            ("'>S5'", "'|S5'"),
            ("'|U5'", "'<U5'"),
            ("'>U5'", "'>U5'"),
            ("'<V8'", "'|V8'"),
            ("'str'", "'<U0'"),
            ("'M8'", "'<M8'"),
            ("'>M8[ns]'", "'>M8[ns]'"),
            ("'datetime64[ns]'", "'<M8[ns]'"),
            ("'<datetime64[ns]'", "'<M8[ns]'"),
            ("'M8[1ns]'", "'<M8[ns]'"),
            ("'M8[ 2D]'", "'<M8[2D]'"),
            ("'<m8[generic]'", "'<m8'"),
            ("'1f4'", "'<f4'"),
            ("'(1,)i4'", "'<i4'"),
            ("'i4,f8'", "[('f0', '<i4'), ('f1', '<f8')]"),
            ("'i4,'", "[('f0', '<i4')]"),
            ("'>i4, <f8'", "[('f0', '>i4'), ('f1', '<f8')]"),
            ("'f8,(2,3)f4'", "[('f0', '<f8'), ('f1', '<f4', (2, 3))]"),
            ("'float32,int8'", "[('f0', '<f4'), ('f1', '|i1')]"),
            ("('<f8', (1,), 'x')", "'<f8'"),
            ("'(2,3)f8'", "'<f8'"),
            ("('<f8', (2,))", "'<f8'"),
            ("([('a', '>i2')], (2,))", "[('a', '>i2')]"),
            (
                "[('c', ('<f8', (5,)), (2,))]",
                "[('c', ('<f8', (5,)), (2,))]",
            ),
            ("[('a', '<f8', 1)]", "[('a', '<f8', (1,))]"),
            ("[('a', '<f8', ())]", "[('a', '<f8')]"),
            ("[['a', 'f4', [2, 3]]]", "[('a', '<f4', (2, 3))]"),
            (
                "[('a','i1'),('','|V3'),('','|V2'),('b','i1')]",
                "[('a', '|i1'), ('', '|V5'), ('b', '|i1')]",
            ),
            (
                "[('', '<f8', (2,)), ('b', 'u1')]",
                "[('', '|V16'), ('b', '|u1')]",
            ),
            ("[('', '|V4')]", "[('', '|V4')]"),
            ("[('', '|V0')]", "[]"),
            ("[]", "[]"),
            ("[('', '<i4')]", "[('', '<i4')]"),
            ("[((None, 'a'), 'f8')]", "[('a', '<f8')]"),
            ("[((1, 'a'), 'f8')]", "[((1, 'a'), '<f8')]"),
            ("[(('', 'a'), '<i4')]", "[(('', 'a'), '<i4')]"),
            ("[('a', 'S', 5)]", "[('a', '|S5')]"),
            ("[('a', 'U', 2)]", "[('a', '<U2')]"),
            ("[('a', 'S1', 5)]", "[('a', '|S1', (5,))]"),
            ("[('a', ('<f8', (2,), 'junk'))]", "[('a', '<f8', (2,))]"),
            ("[('a', [], 3)]", "[('a', [], (3,))]"),
            (
                "[('a', [('x', '>i2'), ('', '|V2')], (4, 3))]",
                "[('a', [('x', '>i2'), ('', '|V2')], (4, 3))]",
            ),
        ] {
            assert_eq!(saved(descr), numpy, "{descr}");
        }
    }

    /// `descr`s `numpy.load` refuses.
    #[test]
    fn what_numpy_refuses_is_refused() {
        for descr in [
            "'<float32'",
            "'f4 '",
            "'f12'",
            "'i16'",
            "'b2'",
            "'u'",
            "'h2'",
            "'M4'",
            "'M8[B]'",
            "'M8[]'",
            "'M8[-2ns]'",
            "'M8[ns]x'",
            "'Float32'",
            "'float96'",
            "'int0'",
            "'(2)i4'",
            "('<f8', {})",
            "[('', '<i4'), ('', '<f8')]",
            "[(1, '<i4')]",
            "[(('a', 'a'), '<i4')]",
            "[(('t', 'a'), '<i4'), ('t', 'u1')]",
            "[('a', 'i4'), ('a', 'f4')]",
            "[('a', '<i4', (-1,))]",
            "[('a', '<i4', 'x')]",
            "[('a', '<i4', (2,), 5)]",
            "[('a',)]",
            "[('a', '<f8', (True,))]",
            "[('a', 'S', (5,))]",
            "[('a', '<i4', 536870912)]",
            "[('a', ('<f8',))]",
            "5",
        ] {
            assert!(
                saved(descr).starts_with("error"),
                "{descr}: {}",
                saved(descr)
            );
        }
        for descr in ["'O'", "'object'", "'O8'", "'T'", "[('a', 'O')]", "'i4,O'"] {
            assert_eq!(saved(descr), "object", "{descr}");
        }
    }

    #[test]
    fn itemsizes_follow_numpy() {
        let size = |d: &str| {
            Model::from_descr(&parse(d).unwrap())
                .ok()
                .map(|m| m.itemsize())
        };
        assert_eq!(size("'<U3'"), Some(12));
        assert_eq!(size("[('c', ('<f8', (5,)), (2,))]"), Some(80));
        assert_eq!(size("[('a','i1'),('','|V3'),('b','i1')]"), Some(5));
        assert_eq!(size("'i4,(2,3)f8'"), Some(52));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut descr = "'<f4'".to_string();
        for _ in 0..40 {
            descr = format!("({descr}, (1,))");
        }
        let Ok(literal) = parse(&descr) else { return };
        assert!(Model::from_descr(&literal).is_err());
    }
}
