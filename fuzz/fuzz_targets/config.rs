//! Fuzzes the form-config parser: `FormConfig::check` (what `formseal check` and the widget run
//! on a marketer's JSON) and what the collector then derives from a config it accepted. Any
//! input must give a config or problems, never a panic.

#![no_main]

use formseal_core::config::FormConfig;
use formseal_core::retention;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let (config, problems) = FormConfig::check(json);
    if let Some(config) = config
        && problems.is_empty()
    {
        let _ = config.recipient_keys();
        let _ = retention::longest(&config);
        let _ = config.problems();
    }
});
