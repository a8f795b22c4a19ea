//! placeholder-v1 wire framing (WF-*): a u64 LE frame count, the u64 LE lengths, the frames.

use crate::error::{Error, Result};
use crate::framing::{Parse, Progress, pack_with_prefix};
use crate::limits::Limits;

/// Serializes a frame list: prelude first, then the frames, nothing before them (WF-1).
pub fn pack(frames: &[Vec<u8>]) -> Vec<u8> {
    pack_with_prefix(&[], frames)
}

/// Parses one message at the start of `data`, checking WF-2 and the limits (WF-7) as
/// soon as the prelude shows them, before any frame is copied.
pub fn parse_message(data: &[u8], limits: &Limits) -> Result<Parse> {
    parse_more(&mut Progress::default(), data, limits)
}

/// As [`parse_message`], resuming from `progress`: each prelude field is read and checked
/// once, in the order of WF-9, however many calls the bytes take to arrive (WF-5).
pub fn parse_more(progress: &mut Progress, data: &[u8], limits: &Limits) -> Result<Parse> {
    let count = match progress.count {
        Some(count) => count,
        None => {
            let Some(count) = progress.next_u64(data) else {
                return Ok(Parse::Incomplete);
            };
            // LM-1 as soon as N is read, before WF-2 (WF-9). From here on N <= max_frames
            // bounds the lengths.
            limits.check_frame_count(count)?;
            if count < 2 {
                return Err(Error::too_few_frames(
                    "WF-2",
                    format!("the prelude declares {count} frames; at least 2 are required"),
                ));
            }
            progress.count = Some(count);
            count
        }
    };
    if !progress.prelude_done() {
        // LM-2 as soon as each length is read; LM-3 once all are.
        if !progress.read_lengths(data, count, limits)? {
            return Ok(Parse::Incomplete);
        }
        let total = progress.size();
        limits.check_message_bytes(total)?;
        // Checked: the total fits max_message_bytes, a u64.
        progress.set_total(total as u64);
    }
    Ok(progress.take_frames(data))
}

/// Reads exactly one message from `data` (WF-3, WF-4).
pub fn unpack(data: &[u8], limits: &Limits) -> Result<Vec<Vec<u8>>> {
    match parse_message(data, limits)? {
        Parse::Incomplete => Err(Error::truncated_input(
            "WF-4",
            format!("{} bytes end inside the message", data.len()),
        )),
        Parse::Complete(frames, used) if used == data.len() => Ok(frames),
        Parse::Complete(_, used) => Err(Error::trailing_bytes(
            "WF-3",
            format!("{} bytes follow the last frame", data.len() - used),
        )),
    }
}

/// A reader of a stream of placeholder-v1 messages (WF-5, WF-6).
pub type FrameReader = crate::framing::FrameReader;

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new(Limits::default())
    }
}

impl FrameReader {
    /// A reader of placeholder-v1 messages that enforces `limits`.
    pub fn new(limits: Limits) -> Self {
        FrameReader::with_framing(limits, parse_more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<Vec<u8>> {
        vec![vec![], vec![0x80], vec![1, 2, 3]]
    }

    #[test]
    fn pack_unpack() {
        let wire = pack(&frames());
        assert_eq!(wire.len(), 8 + 24 + 4);
        assert_eq!(unpack(&wire, &Limits::default()).unwrap(), frames());
        let mut longer = wire.clone();
        longer.push(0);
        assert_eq!(
            unpack(&longer, &Limits::default()).unwrap_err().category(),
            "trailing-bytes"
        );
        for cut in 0..wire.len() {
            assert_eq!(
                unpack(&wire[..cut], &Limits::default())
                    .unwrap_err()
                    .category(),
                "truncated-input",
                "cut at {cut}"
            );
        }
        let one = pack(&[vec![]]);
        assert_eq!(
            unpack(&one, &Limits::default()).unwrap_err().category(),
            "too-few-frames"
        );
    }

    #[test]
    fn limits_before_allocation() {
        let mut wire = Vec::new();
        wire.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            unpack(&wire, &Limits::default()).unwrap_err().category(),
            "limit-exceeded"
        );
        let mut wire = Vec::new();
        wire.extend_from_slice(&2u64.to_le_bytes());
        wire.extend_from_slice(&0u64.to_le_bytes());
        wire.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            unpack(&wire, &Limits::default()).unwrap_err().category(),
            "limit-exceeded"
        );
    }

    #[test]
    fn stream_is_chunking_independent() {
        let mut wire = pack(&frames());
        wire.extend(pack(&[vec![], vec![0x90]]));
        for size in 1..wire.len() {
            let mut reader = FrameReader::new(Limits::default());
            let mut got = Vec::new();
            for chunk in wire.chunks(size) {
                got.extend(reader.feed(chunk).unwrap());
            }
            reader.close().unwrap();
            assert_eq!(got, vec![frames(), vec![vec![], vec![0x90]]]);
        }
        let mut reader = FrameReader::new(Limits::default());
        reader.feed(&wire[..wire.len() - 1]).unwrap();
        assert_eq!(reader.close().unwrap_err().category(), "truncated-input");
    }
}
