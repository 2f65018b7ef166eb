//! The demo data of `koers serve --demo`: the example files, compiled into the binary.

use koers_engine::Engine;
use koers_engine::import::import_str;

const EXAMPLES: [(&str, &str); 2] = [
    ("kc-balans.toml", include_str!("../workflows/examples/kc-balans.toml")),
    ("heidevlinder.toml", include_str!("../workflows/examples/heidevlinder.toml")),
];

/// Imports the examples into an empty database; a database with data is left alone.
pub async fn load(engine: &Engine) -> koers_engine::Result<()> {
    if !engine.is_empty().await? {
        tracing::info!("database has data; demo data not loaded");
        return Ok(());
    }
    for (name, source) in EXAMPLES {
        import_str(engine.db(), name, source).await?;
    }
    tracing::info!("demo data loaded: KC Balans and Heidevlinder");
    Ok(())
}
