//! dask-2023.11 TCP framing (DT-*): the u64 no-split read hint H, the prelude, the frames.

use crate::error::{Error, Result};
use crate::framing::{FrameReader, Parse, Progress, pack_with_prefix, packed_bytes, prelude_bytes};
use crate::limits::Limits;

use super::constants::MIN_HINT;

/// Writes one message: H, the frame count, the lengths, the frames (DT-1). H is the whole
/// rest of the message (DT-6, DC-2).
pub fn pack(frames: &[Vec<u8>]) -> Vec<u8> {
    let rest = packed_bytes(frames) as u64;
    pack_with_prefix(&rest.to_le_bytes(), frames)
}

/// Parses one message at the start of `data`, with the checks in the order of DT-8.
/// `Incomplete` means the bytes end before the next check can be made.
pub fn parse_message(data: &[u8], limits: &Limits) -> Result<Parse> {
    parse_more(&mut Progress::default(), data, limits)
}

/// As [`parse_message`], resuming from `progress`: each prelude field is read and checked
/// once, in the order of DT-8, however many calls the bytes take to arrive (DT-7).
pub fn parse_more(progress: &mut Progress, data: &[u8], limits: &Limits) -> Result<Parse> {
    // Steps 1 and 2: H, against max_message_bytes (DL-1), then below any prelude (DT-4).
    let hint = match progress.hint {
        Some(hint) => hint,
        None => {
            let Some(hint) = progress.next_u64(data) else {
                return Ok(Parse::Incomplete);
            };
            check_hint_alone(hint, limits)?;
            progress.hint = Some(hint);
            hint
        }
    };
    // Step 3: the frame count.
    let count = match progress.count {
        Some(count) => count,
        None => {
            let Some(count) = progress.next_u64(data) else {
                return Ok(Parse::Incomplete);
            };
            limits.check_frame_count(count)?;
            if count == 0 {
                return Err(Error::too_few_frames(
                    "DT-2",
                    "the prelude declares 0 frames; a message has at least 1",
                ));
            }
            progress.count = Some(count);
            count
        }
    };
    if !progress.prelude_done() {
        // Step 4: each length, checked as soon as it is read. Room is reserved only for
        // lengths the data holds.
        if !progress.read_lengths(data, count, limits)? {
            return Ok(Parse::Incomplete);
        }
        // Step 5: the whole message, H included (DL-1): the size counts from its first byte.
        let total = progress.size();
        limits.check_message_bytes(total)?;
        // Step 6: H ends on a frame boundary inside the message (DT-3, DT-4).
        check_hint(hint, progress.lengths())?;
        // Checked: the total fits max_message_bytes, a u64.
        progress.set_total(total as u64);
    }
    // Step 7: the frames.
    Ok(progress.take_frames(data))
}

/// DT-8 step 2: H against max_message_bytes (DL-1), then below any prelude (DT-4).
fn check_hint_alone(hint: u64, limits: &Limits) -> Result<()> {
    if hint > limits.max_message_bytes {
        return Err(Error::limit_exceeded(
            crate::error::Limit::MaxMessageBytes,
            format!(
                "read hint {hint} exceeds max_message_bytes {}",
                limits.max_message_bytes
            ),
        ));
    }
    if hint < MIN_HINT {
        return Err(Error::invalid_read_hint(
            "DT-4",
            format!("read hint {hint} is below {MIN_HINT}, shorter than any prelude"),
        ));
    }
    Ok(())
}

/// DT-3 / DT-4: `H - (8 + 8N)` must be the size of the first k frames, for some k.
fn check_hint(hint: u64, lengths: &[u64]) -> Result<()> {
    let hint = u128::from(hint);
    let mut boundary = prelude_bytes(lengths.len()) as u128;
    if hint < boundary {
        return Err(Error::invalid_read_hint(
            "DT-4",
            format!("read hint {hint} ends inside the {boundary}-byte prelude"),
        ));
    }
    if hint == boundary {
        return Ok(());
    }
    for (index, &length) in lengths.iter().enumerate() {
        boundary += u128::from(length);
        if hint == boundary {
            return Ok(());
        }
        if hint < boundary {
            return Err(Error::invalid_read_hint(
                "DT-4",
                format!("read hint {hint} ends inside frame {index}"),
            ));
        }
    }
    Err(Error::invalid_read_hint(
        "DT-4",
        format!("read hint {hint} reaches past the message's {boundary} bytes"),
    ))
}

/// Reads exactly one message from `data` (DT-8 steps 1 to 8).
pub fn unpack(data: &[u8], limits: &Limits) -> Result<Vec<Vec<u8>>> {
    match parse_message(data, limits)? {
        Parse::Incomplete => Err(Error::truncated_input(
            "DT-8",
            format!("{} bytes end inside the message", data.len()),
        )),
        Parse::Complete(frames, used) if used == data.len() => Ok(frames),
        Parse::Complete(_, used) => Err(Error::trailing_bytes(
            "DT-8",
            format!("{} bytes follow the last frame", data.len() - used),
        )),
    }
}

/// A reader of a TCP stream of dask-2023.11 messages (DT-7).
pub fn stream_reader(limits: Limits) -> FrameReader {
    FrameReader::with_framing(limits, parse_more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_unpack_and_hints() {
        let frames = vec![vec![0x80], vec![1, 2, 3]];
        let wire = pack(&frames);
        assert_eq!(&wire[..8], &(8 + 16 + 4u64).to_le_bytes());
        assert_eq!(unpack(&wire, &Limits::default()).unwrap(), frames);
        for (hint, ok) in [
            (24u64, true),
            (25, true),
            (26, false),
            (28, true),
            (29, false),
        ] {
            let mut w = wire.clone();
            w[..8].copy_from_slice(&hint.to_le_bytes());
            let got = unpack(&w, &Limits::default());
            assert_eq!(got.is_ok(), ok, "hint {hint}");
        }
        for cut in 0..wire.len() {
            let err = unpack(&wire[..cut], &Limits::default()).unwrap_err();
            assert_eq!(err.category(), "truncated-input", "cut at {cut}");
        }
        let mut reader = stream_reader(Limits::default());
        let mut got = Vec::new();
        for b in wire.iter().chain(&wire) {
            got.extend(reader.feed(&[*b]).unwrap());
        }
        reader.close().unwrap();
        assert_eq!(got, vec![frames.clone(), frames]);
    }
}
