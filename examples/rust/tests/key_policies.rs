//! Each profile's map-key rules as the shared msgpack reader applies them: placeholder-v1's
//! `PlaceholderKeys` (PL-6, PL-7, PH-7) and dask-2023.11's `DaskKeys` (DM-2).

use daskwire_rs::dask_2023_11::keys::DaskKeys;
use daskwire_rs::msgpack::{ReadErrorKind, read_one};
use daskwire_rs::placeholder_v1::keys::PlaceholderKeys;
use daskwire_rs::{Value, hex};

fn bytes(h: &str) -> Vec<u8> {
    hex::decode(h).unwrap()
}

fn placeholder(h: &str) -> Result<Value, (ReadErrorKind, String)> {
    read_one(&bytes(h), 4, &PlaceholderKeys).map_err(|e| (e.kind, e.message))
}

fn dask(h: &str) -> Result<Value, (ReadErrorKind, String)> {
    read_one(&bytes(h), 4, &DaskKeys).map_err(|e| (e.kind, e.message))
}

#[test]
fn placeholder_v1_keys() {
    let kind = |h: &str| placeholder(h).unwrap_err().0;
    // PL-6: bool, float and map keys are not allowed.
    assert_eq!(kind("81c301"), ReadErrorKind::MapKey);
    assert_eq!(kind("81ca0000000001"), ReadErrorKind::MapKey);
    assert_eq!(kind("818001"), ReadErrorKind::MapKey);
    assert_eq!(
        placeholder("8191c301").unwrap_err().1,
        "at offset 1: map key 0 is a bool"
    );
    // PH-7: a key holding a placeholder is reported as such.
    assert_eq!(
        placeholder("8181a85f2468656164657280c0").unwrap_err(),
        (
            ReadErrorKind::ReservedInKey,
            "at offset 1: map key 0 is or holds a placeholder".to_owned()
        )
    );
    // PL-7: the same int in two widths, the same array.
    assert_eq!(
        placeholder("820101cc0102").unwrap_err(),
        (
            ReadErrorKind::DuplicateKey,
            "at offset 3: map key 1 is a duplicate".to_owned()
        )
    );
    assert_eq!(kind("82910101910102"), ReadErrorKind::DuplicateKey);
    // str and bin of the same bytes differ; so do nil and an empty array.
    assert!(placeholder("82a16101c4016102").is_ok());
    assert!(placeholder("82c0019002").is_ok());
}

#[test]
fn dask_2023_11_keys() {
    let kind = |h: &str| dask(h).unwrap_err().0;
    // DM-2: bool and float keys are allowed; map keys are not.
    assert!(dask("81c301").is_ok());
    assert!(dask("81ca3fc0000001").is_ok());
    assert_eq!(
        dask("818001").unwrap_err(),
        (
            ReadErrorKind::MapKey,
            "at offset 1: map key 0 is or holds a map".to_owned()
        )
    );
    // Numbers compare by value across int, float and bool: 1, 1.0 and true are the same.
    assert_eq!(
        dask("8201c3cb3ff000000000000002").unwrap_err(),
        (
            ReadErrorKind::DuplicateKey,
            "at offset 3: map key 1 equals an earlier key".to_owned()
        )
    );
    assert_eq!(kind("82c301c302"), ReadErrorKind::DuplicateKey);
    // A NaN equals no key, itself included.
    assert!(dask("82cb7ff800000000000001cb7ff800000000000002").is_ok());
    // A placeholder-looking map is just a map key, not allowed either.
    assert_eq!(kind("8181a85f2468656164657280c0"), ReadErrorKind::MapKey);
}
