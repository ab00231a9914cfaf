//! Capped, multi-member gzip decompression.
//!
//! CloudTrail writes one gzip member per object, but concatenated members are
//! valid gzip and do occur (copies joined with `cat`, tampering). Every member
//! is read; bytes after the last member that are not gzip are reported as
//! trailing data. The decompressed size is capped so that a gzip bomb or an
//! absurd object fails with a clear error instead of exhausting memory.
//! Input that does not start with the gzip magic bytes is returned as it is,
//! whatever the file name suggests.

use std::borrow::Cow;
use std::io::Read;

use flate2::bufread::GzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns true when the bytes start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The decompressed content of one object.
#[derive(Debug)]
pub struct Decompressed<'a> {
    /// The content: borrowed when the input was not compressed.
    pub data: Cow<'a, [u8]>,
    /// Number of gzip members read (0 for uncompressed input).
    pub members: usize,
    /// Damage found while decompressing. The data before the damage is kept
    /// in `data`, so records in it can still be recovered.
    pub damage: Option<String>,
    /// A note about non-fatal oddities, such as bytes after the last member.
    pub note: Option<String>,
}

/// Errors that stop decompression of an object.
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    #[error(
        "decompressed size exceeds the limit of {limit} bytes; raise it with --max-object-size if the object is genuine"
    )]
    TooLarge { limit: u64 },
}

/// Decompresses every gzip member of `bytes`, or passes plain input through,
/// failing when the output would exceed `limit` bytes.
pub fn decompress(bytes: &[u8], limit: u64) -> Result<Decompressed<'_>, GzipError> {
    if !is_gzip(bytes) {
        if bytes.len() as u64 > limit {
            return Err(GzipError::TooLarge { limit });
        }
        return Ok(Decompressed {
            data: Cow::Borrowed(bytes),
            members: 0,
            damage: None,
            note: None,
        });
    }

    // Compressed CloudTrail JSON expands roughly tenfold; the estimate only
    // sizes the first allocation.
    let estimate = (bytes.len() as u64).saturating_mul(10).min(limit) as usize;
    let mut out = Vec::with_capacity(estimate);
    let mut rest = bytes;
    let mut members = 0;
    let mut damage = None;
    let mut note = None;

    while !rest.is_empty() {
        if !is_gzip(rest) {
            if rest.iter().all(|&b| b == 0) {
                note = Some(format!(
                    "{} zero bytes of padding after the gzip data",
                    rest.len()
                ));
            } else {
                note = Some(format!(
                    "{} bytes of trailing data after gzip member {members} were ignored",
                    rest.len()
                ));
            }
            break;
        }

        let remaining_budget = limit - out.len() as u64;
        let mut decoder = GzDecoder::new(rest);
        let read = (&mut decoder)
            .take(remaining_budget + 1)
            .read_to_end(&mut out);
        if out.len() as u64 > limit {
            return Err(GzipError::TooLarge { limit });
        }
        match read {
            Ok(_) => {
                members += 1;
                rest = decoder.into_inner();
            }
            Err(err) => {
                damage = Some(format!(
                    "gzip member {} is damaged after {} decompressed bytes: {err}",
                    members + 1,
                    out.len()
                ));
                break;
            }
        }
    }

    Ok(Decompressed {
        data: Cow::Owned(out),
        members,
        damage,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_input_passes_through() {
        let out = decompress(b"{\"Records\":[]}", 100).unwrap();
        assert_eq!(&*out.data, b"{\"Records\":[]}");
        assert_eq!(out.members, 0);
    }

    #[test]
    fn reads_every_member() {
        let mut bytes = gzip(b"first ");
        bytes.extend(gzip(b"second"));
        let out = decompress(&bytes, 100).unwrap();
        assert_eq!(&*out.data, b"first second");
        assert_eq!(out.members, 2);
        assert!(out.damage.is_none());
    }

    #[test]
    fn flags_trailing_garbage() {
        let mut bytes = gzip(b"data");
        bytes.extend(b"appended");
        let out = decompress(&bytes, 100).unwrap();
        assert_eq!(&*out.data, b"data");
        assert!(out.note.unwrap().contains("8 bytes of trailing data"));
    }

    #[test]
    fn truncated_stream_keeps_prefix() {
        let body: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let bytes = gzip(&body);
        let cut = &bytes[..bytes.len() / 2];
        let out = decompress(cut, u64::MAX / 2).unwrap();
        assert!(out.damage.is_some());
        assert!(body.starts_with(&out.data));
    }

    #[test]
    fn rejects_output_over_limit() {
        let bytes = gzip(&vec![b'a'; 10_000]);
        assert!(matches!(
            decompress(&bytes, 9_999),
            Err(GzipError::TooLarge { .. })
        ));
        assert_eq!(decompress(&bytes, 10_000).unwrap().data.len(), 10_000);
    }

    #[test]
    fn rejects_plain_input_over_limit() {
        assert!(decompress(b"0123456789", 5).is_err());
    }
}
