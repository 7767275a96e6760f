//! Compression the way a server sends static files, at the highest settings: gzip -9 and brotli
//! quality 11. `size` measures with it; `wasm` writes `.gz`/`.br` copies that the collector (and
//! any static server configured for precompressed files) sends as they are.

use std::io::Write;

use anyhow::Result;
use flate2::Compression;
use flate2::write::GzEncoder;

/// `bytes` as gzip -9.
pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(bytes)?;
    Ok(gzip.finish()?)
}

/// `bytes` as brotli, quality 11 with a 4 MiB window (lgwin 22): what `brotli -q 11` and CDNs
/// use for static files.
pub(crate) fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out)
}
