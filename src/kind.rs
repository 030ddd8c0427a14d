//! [`FileKind`]: what a file holds — a `.npy` array or an image in one of the
//! formats rcrop reads and writes — told from content on input and from the
//! extension (or `--to`) on output. It sits above both formats and chooses
//! between them.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use image::ImageFormat;

use crate::npy::MAGIC;
use crate::npz;
use crate::raster::format_name;
use crate::raster::formats::{self, Signature};
use crate::tar;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Npy,
    /// A NumPy `.npz` archive of `.npy` members.
    Npz,
    /// A tar archive, such as a WebDataset shard.
    Tar,
    Image(ImageFormat),
}

impl FileKind {
    /// The kind of a file from its first bytes (16 are enough, 512 for a
    /// tar archive), if rcrop reads it.
    pub fn sniff(prefix: &[u8]) -> Option<Self> {
        if prefix.starts_with(MAGIC) {
            return Some(FileKind::Npy);
        }
        // A zip archive; an empty one is only its end record.
        if prefix.starts_with(npz::MAGIC) || prefix.starts_with(b"PK\x05\x06") {
            return Some(FileKind::Npz);
        }
        // Before the images: a tar header starts with a member's name.
        if tar::looks_like_tar(prefix) {
            return Some(FileKind::Tar);
        }
        formats::sniff(prefix).map(FileKind::Image)
    }

    /// The kind of a file from its first bytes or, for formats that have no
    /// signature, from the extension of its name.
    pub fn sniff_named(prefix: &[u8], path: Option<&Path>) -> Option<Self> {
        Self::sniff(prefix).or_else(|| {
            path.and_then(Self::from_path).filter(|&kind| match kind {
                FileKind::Image(f) => matches!(formats::row(f).signature, Signature::Extension),
                _ => false,
            })
        })
    }

    /// The kind an output path asks for by its extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        path.extension()?
            .to_str()?
            .to_ascii_lowercase()
            .parse()
            .ok()
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Npy => "npy",
            FileKind::Npz => "npz",
            FileKind::Tar => "tar",
            FileKind::Image(f) => formats::row(f).extensions.first().copied().unwrap_or("img"),
        }
    }
}

/// A `--to` value or extension that names no kind rcrop writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown output format {0:?}; expected one of npy, npz, tar, {formats}",
    formats = formats::extension_list()
)]
pub struct UnknownKind(pub String);

impl FromStr for FileKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        match s {
            "npy" => return Ok(FileKind::Npy),
            "npz" => return Ok(FileKind::Npz),
            "tar" => return Ok(FileKind::Tar),
            _ => {}
        }
        formats::by_extension(s)
            .map(FileKind::Image)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileKind::Npy => f.write_str(".npy"),
            FileKind::Npz => f.write_str(".npz"),
            FileKind::Tar => f.write_str(".tar"),
            FileKind::Image(format) => f.write_str(format_name(*format)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_content_and_extensions() {
        assert_eq!(FileKind::sniff(b"\x93NUMPY\x01\x00"), Some(FileKind::Npy));
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(FileKind::Image(ImageFormat::Png))
        );
        assert_eq!(FileKind::sniff(b"hello, world"), None);
        assert_eq!(
            FileKind::from_path(Path::new("a/b.JPG")),
            Some(FileKind::Image(ImageFormat::Jpeg))
        );
        assert_eq!(
            FileKind::from_path(Path::new("b.tif")),
            Some(FileKind::Image(ImageFormat::Tiff))
        );
        assert_eq!(FileKind::from_path(Path::new("b.npy")), Some(FileKind::Npy));
        assert_eq!(FileKind::from_path(Path::new("b.npz")), Some(FileKind::Npz));
        assert_eq!(FileKind::sniff(b"PK\x03\x04\x14\0"), Some(FileKind::Npz));
        assert_eq!(FileKind::from_path(Path::new("b.xyz")), None);
        assert_eq!(FileKind::from_path(Path::new("noext")), None);
        assert_eq!("jpg".parse::<FileKind>().unwrap().extension(), "jpg");
        for f in &formats::FORMATS {
            let kind = FileKind::Image(f.format);
            for ext in f.extensions {
                assert_eq!(ext.parse::<FileKind>(), Ok(kind));
            }
            assert_eq!(Some(kind.extension()), f.extensions.first().copied());
            assert_eq!(kind.to_string(), f.name);
        }
        // A format known by its extension alone, whatever its case.
        let by_name = formats::FORMATS
            .iter()
            .find(|f| matches!(f.signature, Signature::Extension))
            .unwrap();
        let named = format!("a.{}", by_name.extensions[0].to_uppercase());
        assert_eq!(
            FileKind::sniff_named(b"\0\0\x02\0", Some(Path::new(&named))),
            Some(FileKind::Image(by_name.format))
        );
        assert_eq!(
            FileKind::sniff_named(b"\0\0\x02\0", Some(Path::new("a.png"))),
            None
        );
        assert_eq!(FileKind::sniff_named(b"\0\0\x02\0", None), None);
    }

    #[test]
    fn pnm_is_p1_to_p6_then_whitespace_and_named_pbm_pgm_ppm_pnm() {
        let pnm = Some(FileKind::Image(ImageFormat::Pnm));
        for prefix in [&b"P1\n"[..], b"P4 8", b"P5\t", b"P6\r\n", b"P3\x0c", b"P2"] {
            assert_eq!(FileKind::sniff(prefix), pnm, "{prefix:?}");
        }
        for prefix in [&b"P7\nWIDTH"[..], b"P6#", b"P0\n", b"Pf\n", b"P", b"P65"] {
            assert_eq!(FileKind::sniff(prefix), None, "{prefix:?}");
        }
        for ext in ["pbm", "pgm", "ppm", "pnm"] {
            assert_eq!(
                ext.parse::<FileKind>(),
                Ok(FileKind::Image(ImageFormat::Pnm))
            );
        }
        assert!("pam".parse::<FileKind>().is_err());
        assert_eq!(FileKind::Image(ImageFormat::Pnm).extension(), "pnm");
    }
}
