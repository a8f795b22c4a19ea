//! Wire framing (WF-*): a u64 LE frame count, the u64 LE frame lengths, the frames.

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Serializes a frame list: prelude first, then the frames (WF-1).
pub fn pack(frames: &[Vec<u8>]) -> Vec<u8> {
    let total: usize = 8 + 8 * frames.len() + frames.iter().map(Vec::len).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(frames.len() as u64).to_le_bytes());
    for frame in frames {
        out.extend_from_slice(&(frame.len() as u64).to_le_bytes());
    }
    for frame in frames {
        out.extend_from_slice(frame);
    }
    out
}

/// The outcome of looking at the start of a buffer.
enum Parse {
    /// A complete message: its frames and how many bytes it took.
    Complete(Vec<Vec<u8>>, usize),
    /// The buffer ends inside the message.
    Incomplete,
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    let bytes = data.get(at..at + 8)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// Parses one message at the start of `data`, checking WF-2 and the limits (WF-7) as
/// soon as the prelude shows them, before any frame is copied.
fn parse_message(data: &[u8], limits: &Limits) -> Result<Parse> {
    let Some(count) = read_u64(data, 0) else {
        return Ok(Parse::Incomplete);
    };
    // LM-1 as soon as N is read, before WF-2 (WF-9). From here on N <= max_frames bounds
    // the lengths.
    limits.check_frame_count(count)?;
    if count < 2 {
        return Err(Error::too_few_frames(
            "WF-2",
            format!("the prelude declares {count} frames; at least 2 are required"),
        ));
    }
    let n = count as usize;
    let mut lengths = Vec::with_capacity(n.min(data.len() / 8));
    for index in 0..n {
        let Some(length) = read_u64(data, 8 + 8 * index) else {
            return Ok(Parse::Incomplete);
        };
        // LM-2 as soon as the length is read; LM-3 once all are.
        limits.check_frame_bytes(index, length)?;
        lengths.push(length);
    }
    limits.check_frames(count, lengths.iter().copied())?;
    // Checked: the total fits max_message_bytes (a u64), so these sums do not overflow.
    let total = 8 + 8 * n + lengths.iter().map(|&l| l as usize).sum::<usize>();
    if data.len() < total {
        return Ok(Parse::Incomplete);
    }
    let mut at = 8 + 8 * n;
    let frames = lengths
        .iter()
        .map(|&l| {
            let frame = data[at..at + l as usize].to_vec();
            at += l as usize;
            frame
        })
        .collect();
    Ok(Parse::Complete(frames, total))
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

/// An incremental reader of a stream of messages (WF-5, WF-6).
///
/// Feed it chunks as they arrive; it returns every message completed so far, and the
/// same frame lists however the bytes were cut.
#[derive(Debug, Default)]
pub struct FrameReader {
    limits: Limits,
    buffer: Vec<u8>,
    /// An error found after messages that one `feed` returned; reported by the next call.
    error: Option<Error>,
}

impl FrameReader {
    /// A reader that enforces `limits`.
    pub fn new(limits: Limits) -> Self {
        FrameReader {
            limits,
            buffer: Vec::new(),
            error: None,
        }
    }

    /// Adds bytes; returns the messages that are now complete.
    ///
    /// The messages completed before an error are returned first; the error comes with the
    /// next call to `feed` or `close` (WF-6), and with every call after it.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Vec<Vec<u8>>>> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        self.buffer.extend_from_slice(chunk);
        let mut messages = Vec::new();
        let mut start = 0;
        while start < self.buffer.len() {
            match parse_message(&self.buffer[start..], &self.limits) {
                Ok(Parse::Complete(frames, used)) => {
                    messages.push(frames);
                    start += used;
                }
                Ok(Parse::Incomplete) => break,
                Err(error) if messages.is_empty() => {
                    self.error = Some(error.clone());
                    return Err(error);
                }
                Err(error) => {
                    self.error = Some(error);
                    break;
                }
            }
        }
        self.buffer.drain(..start);
        Ok(messages)
    }

    /// Ends the stream: an error if a partial message is buffered (WF-6).
    pub fn close(self) -> Result<()> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(Error::truncated_input(
                "WF-6",
                format!(
                    "the stream ends inside a message ({} bytes buffered)",
                    self.buffer.len()
                ),
            ))
        }
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
