//! `cargo xtask size`: builds the widget and reports its transfer size, the budget a site owner
//! pays on every page: raw, gzip -9 and brotli (quality 11) bytes per file in `pkg/` and in total.
//! The table goes to stdout, the same numbers as JSON to `target/size.json`.

use std::fs;
use std::io::Write;

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use crate::shell::project_root;
use crate::wasm;

/// Sizes in bytes of one file, as stored and as sent compressed.
#[derive(Default)]
struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

/// Builds `pkg/`, prints the size table and writes `target/size.json`.
pub(crate) fn run() -> Result<()> {
    wasm::run()?;
    let mut rows = Vec::new();
    for file in wasm::OUTPUTS {
        let path = project_root().join(file);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        rows.push((file, measure(&bytes)?));
    }
    let total = rows.iter().fold(Sizes::default(), |sum, (_, sizes)| Sizes {
        raw: sum.raw + sizes.raw,
        gzip: sum.gzip + sizes.gzip,
        brotli: sum.brotli + sizes.brotli,
    });

    println!(
        "{:<24} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli"
    );
    for (file, sizes) in rows.iter().map(|(f, s)| (*f, s)).chain([("total", &total)]) {
        println!(
            "{file:<24} {:>10} {:>10} {:>10}",
            sizes.raw, sizes.gzip, sizes.brotli
        );
    }

    let as_json =
        |sizes: &Sizes| json!({"raw": sizes.raw, "gzip": sizes.gzip, "brotli": sizes.brotli});
    let files: serde_json::Map<_, _> = rows
        .iter()
        .map(|(file, sizes)| ((*file).to_owned(), as_json(sizes)))
        .collect();
    let report = json!({ "files": files, "total": as_json(&total) });
    let out = project_root().join("target/size.json");
    fs::write(&out, format!("{report:#}\n"))
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote target/size.json");
    Ok(())
}

/// Compresses `bytes` the way a server would send them, at the highest settings.
fn measure(bytes: &[u8]) -> Result<Sizes> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(bytes)?;
    let gzip = gzip.finish()?.len();

    let mut brotli = Vec::new();
    {
        // Quality 11 and a 4 MiB window (lgwin 22): what `brotli -q 11` and CDNs use for statics.
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(Sizes {
        raw: bytes.len(),
        gzip,
        brotli: brotli.len(),
    })
}
