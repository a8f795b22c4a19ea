//! Shared stream machinery: the incremental [`FrameReader`] over a profile's framing.
//!
//! Each profile supplies a [`ParseFn`] that reads one message at the start of a buffer
//! (placeholder-v1: WF-1; dask-2023.11: DT-1), resuming from a [`Progress`] kept between
//! calls; the reader does the buffering, so both meet WF-5 and WF-6 the same way (DT-7).
//! Each prelude field is read and checked once, however the bytes arrive, so a stream
//! costs time linear in its size.

use crate::error::{Error, Result};
use crate::limits::Limits;

/// The outcome of looking at the start of a buffer.
#[derive(Debug)]
pub enum Parse {
    /// A complete message: its frames and how many bytes it took.
    Complete(Vec<Vec<u8>>, usize),
    /// The buffer ends inside the message.
    Incomplete,
}

/// Parses one message at the start of a buffer, resuming from the progress made on a
/// shorter prefix of the same buffer and checking limits as soon as it can.
pub type ParseFn = fn(&mut Progress, &[u8], &Limits) -> Result<Parse>;

/// Bytes of each integer before the frames, a u64 little-endian: the frame count and every
/// length (WF-1, WF-8), and dask-2023.11's read hint (DT-1).
pub const U64_BYTES: usize = 8;

/// The size of a prelude of `count` frames: the count and one length per frame, `8 + 8N`
/// bytes (WF-1; DT-1 parts 2 and 3).
pub fn prelude_bytes(count: usize) -> usize {
    U64_BYTES * (1 + count)
}

/// The size of the prelude and the frames of `frames` (WF-1; DT-1 parts 2 to 4).
pub fn packed_bytes(frames: &[Vec<u8>]) -> usize {
    prelude_bytes(frames.len()) + frames.iter().map(Vec::len).sum::<usize>()
}

/// Writes one message: `prefix`, then the prelude (the frame count and each frame's length,
/// u64 LE, WF-8) and the frames, frame 0 first (WF-1). `prefix` holds what a profile writes
/// before the prelude: nothing for placeholder-v1, the read hint for dask-2023.11 (DT-1).
pub fn pack_with_prefix(prefix: &[u8], frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + packed_bytes(frames));
    out.extend_from_slice(prefix);
    out.extend_from_slice(&(frames.len() as u64).to_le_bytes());
    for frame in frames {
        out.extend_from_slice(&(frame.len() as u64).to_le_bytes());
    }
    for frame in frames {
        out.extend_from_slice(frame);
    }
    out
}

/// Reads a little-endian u64 at `at`, if the buffer holds it (WF-8).
pub fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    let end = at.checked_add(U64_BYTES)?;
    let bytes = data.get(at..end)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// How far a [`ParseFn`] has got into one message: the prelude fields read and checked
/// so far (WF-7, WF-9, DT-8), so that more bytes resume the parse instead of repeating it.
///
/// A fresh `Progress` starts a message; give it the same message's bytes, from its first
/// byte, each call with at least the bytes of the last.
#[derive(Debug, Default)]
pub struct Progress {
    /// The offset of the next prelude field: the prelude's size once all are read.
    at: usize,
    /// dask-2023.11's read hint H, once read and checked (DT-8 step 2).
    pub(crate) hint: Option<u64>,
    /// The frame count N, once read and checked (WF-9 step 2, DT-8 step 3).
    pub(crate) count: Option<u64>,
    /// The frame lengths read so far, each checked as it was read (WF-9 step 3).
    lengths: Vec<u64>,
    /// The message's size, once the whole prelude is read and checked.
    total: Option<u64>,
    /// Attempts to read a prelude field, over every message: the work done, for tests.
    reads: u64,
}

impl Progress {
    /// Reads the next prelude field, if `data` holds it yet (WF-8).
    pub(crate) fn next_u64(&mut self, data: &[u8]) -> Option<u64> {
        self.reads += 1;
        let value = read_u64(data, self.at)?;
        self.at += U64_BYTES;
        Some(value)
    }

    /// Reads the frame lengths that `data` holds, checking each against LM-2 as soon as it
    /// is read (WF-7, WF-9 step 3); `true` once all `count` are read.
    ///
    /// Room is reserved only for lengths that `data` holds, never by `count` alone.
    pub(crate) fn read_lengths(
        &mut self,
        data: &[u8],
        count: u64,
        limits: &Limits,
    ) -> Result<bool> {
        let missing = count - self.lengths.len() as u64;
        let held = data.len().saturating_sub(self.at) / U64_BYTES;
        self.lengths
            .reserve(usize::try_from(missing).map_or(held, |m| m.min(held)));
        while (self.lengths.len() as u64) < count {
            let Some(length) = self.next_u64(data) else {
                return Ok(false);
            };
            limits.check_frame_bytes(self.lengths.len(), length)?;
            self.lengths.push(length);
        }
        Ok(true)
    }

    /// The message's size once every length is read: the prelude and every frame.
    pub(crate) fn size(&self) -> u128 {
        self.at as u128 + self.lengths.iter().map(|&l| u128::from(l)).sum::<u128>()
    }

    /// Records the checked size of the message (`size`); the prelude is done.
    pub(crate) fn set_total(&mut self, total: u64) {
        self.total = Some(total);
    }

    /// Whether the whole prelude has been read and checked.
    pub(crate) fn prelude_done(&self) -> bool {
        self.total.is_some()
    }

    /// The frame lengths read so far.
    pub(crate) fn lengths(&self) -> &[u64] {
        &self.lengths
    }

    /// Once the prelude is done: the frames, if `data` holds the whole message.
    pub(crate) fn take_frames(&mut self, data: &[u8]) -> Parse {
        let Some(total) = self.total.and_then(|t| usize::try_from(t).ok()) else {
            return Parse::Incomplete;
        };
        if data.len() < total {
            return Parse::Incomplete;
        }
        let mut at = self.at;
        let frames = self
            .lengths
            .iter()
            .map(|&length| {
                // The sizes fit `total`, which fits `data`, so these do not overflow.
                let end = at + length as usize;
                let frame = data[at..end].to_vec();
                at = end;
                frame
            })
            .collect();
        Parse::Complete(frames, total)
    }

    /// Starts the next message, keeping the work count.
    fn reset(&mut self) {
        *self = Progress {
            reads: self.reads,
            ..Progress::default()
        };
    }
}

/// An incremental reader of a stream of messages (WF-5, WF-6, DT-7).
///
/// Feed it chunks as they arrive; it returns every message completed so far, and the
/// same frame lists however the bytes were cut.
#[derive(Debug)]
pub struct FrameReader {
    limits: Limits,
    parse: ParseFn,
    /// The bytes not yet returned: the pending message's, from its first byte.
    buffer: Vec<u8>,
    /// How far `parse` has got into the pending message.
    progress: Progress,
    /// An error found after messages that one `feed` returned; reported by the next call.
    error: Option<Error>,
}

impl FrameReader {
    /// A reader of the framing that `parse` reads, enforcing `limits`.
    pub fn with_framing(limits: Limits, parse: ParseFn) -> Self {
        FrameReader {
            limits,
            parse,
            buffer: Vec::new(),
            progress: Progress::default(),
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
            match (self.parse)(&mut self.progress, &self.buffer[start..], &self.limits) {
                Ok(Parse::Complete(frames, used)) => {
                    messages.push(frames);
                    start += used;
                    self.progress.reset();
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
        // Only bytes of this chunk follow a message completed in it, so this moves each
        // byte at most once.
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
    use crate::{dask_2023_11, placeholder_v1};

    /// Frames in the test messages: a prelude of about 520 KB, trickled in (WF-5, DT-7).
    const FRAMES: usize = 65_000;

    /// Feeds `wire` in chunks of 1 to 64 bytes (a fixed pseudo-random sequence). Returns
    /// the messages, the error's category, the calls to `feed` and the prelude fields the
    /// reader tried to read.
    fn trickle(
        mut reader: FrameReader,
        wire: &[u8],
    ) -> (Vec<Vec<Vec<u8>>>, Option<&'static str>, u64, u64) {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let (mut messages, mut error, mut feeds, mut at) = (Vec::new(), None, 0, 0);
        while at < wire.len() && error.is_none() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let end = wire.len().min(at + 1 + (seed % 64) as usize);
            feeds += 1;
            match reader.feed(&wire[at..end]) {
                Ok(got) => messages.extend(got),
                Err(e) => error = Some(e.category()),
            }
            at = end;
        }
        (messages, error, feeds, reader.progress.reads)
    }

    /// A profile's writer of one message.
    type Pack = fn(&[Vec<u8>]) -> Vec<u8>;

    /// Both profiles' readers, their packers, and the prelude fields before the lengths.
    fn profiles() -> [(FrameReader, Pack, u64); 2] {
        [
            (
                placeholder_v1::wire::FrameReader::new(Limits::default()),
                placeholder_v1::wire::pack,
                1,
            ),
            (
                dask_2023_11::stream_reader(Limits::default()),
                dask_2023_11::pack,
                2,
            ),
        ]
    }

    /// A prelude trickled in a few bytes at a time is read once, not once per chunk: the
    /// reader's work is linear in the bytes fed (WF-5, DT-7). Reading it again on every
    /// call, as the reader once did, made about 1.3e9 reads of these 1.2 MB.
    #[test]
    fn a_trickled_prelude_is_read_once() {
        let frames: Vec<Vec<u8>> = (0..FRAMES).map(|i| vec![i as u8; i % 3]).collect();
        for (reader, pack, before) in profiles() {
            let mut wire = pack(&frames);
            wire.extend_from_slice(&pack(&frames));
            let (messages, error, feeds, reads) = trickle(reader, &wire);
            assert_eq!(error, None);
            assert!(messages == [frames.clone(), frames.clone()]);
            // Each field once, and at most one short read per call that waits for more.
            let fields = 2 * (before + FRAMES as u64);
            assert!(
                reads <= fields + feeds,
                "{reads} reads of {fields} fields in {feeds} feeds"
            );
        }
    }

    /// A trickled prelude's lengths are each checked as they arrive: the length over
    /// `max_frame_bytes` fails the feed that completes it, with no frame bytes sent (WF-9).
    #[test]
    fn a_trickled_length_is_checked_on_arrival() {
        let mut frames = vec![Vec::new(); FRAMES];
        frames.push(vec![0]);
        for (reader, pack, before) in profiles() {
            let mut wire = pack(&frames);
            let prelude = 8 * (before as usize + frames.len());
            wire.truncate(prelude);
            let over = Limits::default().max_frame_bytes + 1;
            wire[prelude - 8..].copy_from_slice(&over.to_le_bytes());
            let (messages, error, feeds, reads) = trickle(reader, &wire);
            assert!(messages.is_empty());
            assert_eq!(error, Some("limit-exceeded"));
            let fields = before + frames.len() as u64;
            assert!(
                reads <= fields + feeds,
                "{reads} reads of {fields} fields in {feeds} feeds"
            );
        }
    }
}
