//! Compression codecs (CP-1, CP-2): `lz4` (required) and `zlib` (optional capability).
//!
//! Decompression checks the declared size against the limits before it allocates
//! (CP-5) and rejects data whose output differs from the declared size (CP-4).

use std::io::Write;

use crate::error::{Error, Limit, Result};
use crate::limits::Limits;

/// The codecs this implementation can apply, in preference order.
pub const SUPPORTED_CODECS: [&str; 2] = ["lz4", "zlib"];

/// True if `name` is a codec this implementation supports.
pub fn is_supported(name: &str) -> bool {
    SUPPORTED_CODECS.contains(&name)
}

/// Decompresses one frame with the named codec: frame 1 (named by frame 0, SH-2) or an
/// offloaded frame (named by its header's `"compression"`, HD-5). A name this
/// implementation does not support gives `unknown-codec` (CP-2).
pub fn decompress(codec: &str, data: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    match codec {
        "lz4" => decompress_lz4(data, limits),
        "zlib" => decompress_zlib(data, limits),
        other => Err(Error::unknown_codec(
            "CP-2",
            format!("codec {other:?} is not supported (supported: lz4, zlib)"),
        )),
    }
}

/// `lz4`: a u32 little-endian uncompressed size, then one LZ4 block (CP-1).
fn decompress_lz4(data: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    if data.len() < 5 {
        return Err(Error::invalid_compressed_data(
            "CP-1",
            format!(
                "lz4 data of {} bytes; the size prefix and at least one block byte are 5",
                data.len()
            ),
        ));
    }
    let (prefix, block) = data.split_at(4);
    let declared = u32::from_le_bytes(prefix.try_into().expect("4 bytes"));
    // CP-5: the declared size is checked before anything is allocated; the compressed
    // size of lz4 excludes the prefix.
    limits.check_declared_size(u64::from(declared), block.len() as u64)?;
    let mut out = vec![0u8; declared as usize];
    match lz4_flex::block::decompress_into(block, &mut out) {
        Ok(n) if n == out.len() => {
            // lz4_flex does not hold blocks to the end-of-block conditions.
            check_lz4_block(block, out.len())
                .map_err(|why| Error::invalid_compressed_data("CP-12", why.to_string()))?;
            Ok(out)
        }
        Ok(n) => Err(Error::invalid_compressed_data(
            "CP-4",
            format!("lz4 block decompresses to {n} bytes, declared {declared}"),
        )),
        Err(e) => Err(Error::invalid_compressed_data(
            "CP-4",
            format!("lz4 block does not decompress to the declared {declared} bytes: {e}"),
        )),
    }
}

/// Walks the sequences of an LZ4 block that decompresses to `size` bytes, and checks the
/// end-of-block conditions (CP-12) and the match offsets (CP-13).
fn check_lz4_block(block: &[u8], size: usize) -> std::result::Result<(), &'static str> {
    let mut at = 0;
    let mut out = 0;
    loop {
        let token = *block
            .get(at)
            .ok_or("the block ends before its last sequence")?;
        at += 1;
        let literals = lz4_length(block, &mut at, token >> 4)?;
        at += literals;
        out += literals;
        if at >= block.len() {
            return Ok(()); // the last sequence holds literals only
        }
        let offset = match block.get(at..at + 2) {
            Some(&[low, high]) => usize::from(u16::from_le_bytes([low, high])),
            _ => return Err("the block ends inside a match offset"),
        };
        at += 2;
        if offset == 0 || offset > out {
            return Err("a match offset is 0 or reaches before the start (CP-13)");
        }
        if out + 12 > size {
            return Err("a match starts less than 12 bytes before the end (CP-12)");
        }
        out += lz4_length(block, &mut at, token & 0x0f)? + 4;
        if out + 5 > size {
            return Err("a match ends inside the last 5 bytes (CP-12)");
        }
    }
}

/// A literal or match length: the token's nibble, plus the bytes after it while it is 15
/// and they are 255.
fn lz4_length(
    block: &[u8],
    at: &mut usize,
    nibble: u8,
) -> std::result::Result<usize, &'static str> {
    let mut length = usize::from(nibble);
    if nibble == 15 {
        loop {
            let byte = *block.get(*at).ok_or("the block ends inside a length")?;
            *at += 1;
            length += usize::from(byte);
            if byte != 255 {
                break;
            }
        }
    }
    Ok(length)
}

/// `zlib`: an RFC 1950 stream. It declares no size, so the output is bounded while it
/// is produced: never more than the limits allow.
fn decompress_zlib(data: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    // CP-5: no declared size, so stop as soon as the output exceeds either bound.
    let by_ratio = u128::from(limits.max_decompression_ratio) * (data.len().max(1) as u128);
    let (bound, limit) = if u128::from(limits.max_decompressed_bytes) <= by_ratio {
        (limits.max_decompressed_bytes, Limit::MaxDecompressedBytes)
    } else {
        (by_ratio as u64, Limit::MaxDecompressionRatio)
    };
    let mut inflater = Decompress::new(true);
    // Never hold more than `bound + 1` bytes: one byte past the bound proves the excess.
    let cap = usize::try_from(bound.saturating_add(1)).unwrap_or(usize::MAX);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() == out.capacity() {
            let grow = out.capacity().max(64 * 1024).min(cap - out.len());
            out.reserve_exact(grow);
        }
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let consumed = in_before as usize;
        // Not `Finish`: miniz_oxide takes a first `Finish` call as one-shot decompression
        // and fails for good when the output needs more room than that call had (64 KiB).
        let status = inflater
            .decompress_vec(&data[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| Error::invalid_compressed_data("CP-4", format!("zlib: {e}")))?;
        if out.len() as u64 > bound {
            return Err(Error::limit_exceeded(
                limit,
                format!("zlib output exceeds {bound} bytes"),
            ));
        }
        if status == Status::StreamEnd {
            break;
        }
        let progressed = inflater.total_in() != in_before || inflater.total_out() != out_before;
        if !progressed && out.len() < out.capacity() {
            return Err(Error::invalid_compressed_data(
                "CP-4",
                "zlib stream is truncated",
            ));
        }
    }
    let consumed = inflater.total_in() as usize;
    if consumed != data.len() {
        return Err(Error::invalid_compressed_data(
            "CP-4",
            format!("{} bytes follow the zlib stream", data.len() - consumed),
        ));
    }
    Ok(out)
}

/// Compresses one frame with the named codec.
pub fn compress(codec: &str, data: &[u8]) -> Result<Vec<u8>> {
    match codec {
        "lz4" => Ok(lz4_flex::block::compress_prepend_size(data)),
        "zlib" => {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            encoder
                .write_all(data)
                .and_then(|()| encoder.finish())
                .map_err(|e| Error::unencodable_value("CP-2", format!("zlib: {e}")))
        }
        other => Err(Error::unencodable_value(
            "CP-2",
            format!("cannot compress with codec {other:?}"),
        )),
    }
}

/// The encoder's compression choice (CP-10): frames of at least 10000 bytes are
/// compressed when the result is at most 0.9 times the original size.
pub fn maybe_compress(codec: &str, data: &[u8]) -> Result<Option<Vec<u8>>> {
    if data.len() < 10_000 {
        return Ok(None);
    }
    let compressed = compress(codec, data)?;
    if compressed.len() * 10 <= data.len() * 9 {
        Ok(Some(compressed))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lz4_round_trip_and_checks() {
        let data = vec![b'y'; 20_000];
        let packed = compress("lz4", &data).unwrap();
        assert_eq!(&packed[..4], &20_000u32.to_le_bytes());
        assert_eq!(
            decompress("lz4", &packed, &Limits::default()).unwrap(),
            data
        );
        // Declared size too large for the limits: rejected before decompressing.
        let tight = Limits {
            max_decompressed_bytes: 100,
            ..Limits::default()
        };
        let err = decompress("lz4", &packed, &tight).unwrap_err();
        assert_eq!(err.category(), "limit-exceeded");
        // Wrong declared size.
        let mut wrong = packed.clone();
        wrong[..4].copy_from_slice(&19_999u32.to_le_bytes());
        assert_eq!(
            decompress("lz4", &wrong, &Limits::default())
                .unwrap_err()
                .category(),
            "invalid-compressed-data"
        );
        assert_eq!(
            decompress("lz4", &[0, 0, 0, 0], &Limits::default())
                .unwrap_err()
                .category(),
            "invalid-compressed-data"
        );
        assert_eq!(
            decompress("snappy", &[], &Limits::default())
                .unwrap_err()
                .category(),
            "unknown-codec"
        );
    }

    /// Hand-derived blocks of 16 bytes (CP-12, CP-13): token, literals, u16 LE offset.
    #[test]
    fn lz4_end_of_block_conditions_and_offsets() {
        let frame = |hex: &str| crate::hex::decode(&hex.replace(' ', "")).unwrap();
        let ok = frame("10000000 40 61626364 0400 80 6566676869 6a6b6c");
        assert_eq!(
            decompress("lz4", &ok, &Limits::default()).unwrap(),
            b"abcdabcdefghijkl"
        );
        let five = frame("10000000 43 61626364 0400 50 6566676869");
        assert_eq!(
            decompress("lz4", &five, &Limits::default()).unwrap(),
            b"abcdabcdabcefghi"
        );
        for bad in [
            "10000000 40 61626364 0000 80 6566676869 6a6b6c", // offset 0
            "10000000 40 61626364 0500 80 6566676869 6a6b6c", // offset before the start
            "10000000 44 61626364 0400 40 65666768",          // 4 last literals
            "10000000 50 6162636465 0500 70 6566676869 6a6b", // match 11 from the end
            "08000000 40 61626364 0400",                      // ends with a match
        ] {
            let err = decompress("lz4", &frame(bad), &Limits::default()).unwrap_err();
            assert_eq!(err.category(), "invalid-compressed-data", "{bad}");
        }
        assert!(check_lz4_block(&[0xf0], 15).is_err());
        assert!(check_lz4_block(&[0x40, 1, 2, 3, 4, 4], 8).is_err());
        assert!(check_lz4_block(&[], 0).is_err());
    }

    #[test]
    fn zlib_round_trip_and_checks() {
        let data = vec![7u8; 50_000];
        let packed = compress("zlib", &data).unwrap();
        assert_eq!(
            decompress("zlib", &packed, &Limits::default()).unwrap(),
            data
        );
        let mut trailing = packed.clone();
        trailing.push(0);
        assert_eq!(
            decompress("zlib", &trailing, &Limits::default())
                .unwrap_err()
                .category(),
            "invalid-compressed-data"
        );
        assert_eq!(
            decompress("zlib", &packed[..packed.len() - 3], &Limits::default())
                .unwrap_err()
                .category(),
            "invalid-compressed-data"
        );
        let tight = Limits {
            max_decompressed_bytes: 1000,
            ..Limits::default()
        };
        assert_eq!(
            decompress("zlib", &packed, &tight).unwrap_err().category(),
            "limit-exceeded"
        );
    }
}
