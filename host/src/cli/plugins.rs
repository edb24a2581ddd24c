//! `cutover plugins list|inspect`: what the plugin folders hold.

use crate::discovery::Discovery;
use crate::plugin::LoadedPlugin;
use serde_json::json;

fn summary(plugin: &LoadedPlugin) -> serde_json::Value {
    let metadata = &plugin.metadata;
    json!({
        "name": metadata.name,
        "version": metadata.version,
        "kind": metadata.kind,
        "description": metadata.description,
        "streams": metadata.streams,
        "abi_version": metadata.abi_version,
        "schema_version": metadata.schema_version.to_string(),
        "path": plugin.path,
    })
}

/// Prints every loaded plugin, as a table or as a JSON array.
pub fn list(discovery: &Discovery, as_json: bool) -> String {
    if as_json {
        let plugins: Vec<serde_json::Value> = discovery.plugins.iter().map(summary).collect();
        return serde_json::Value::Array(plugins).to_string();
    }
    if discovery.plugins.is_empty() {
        return "no plugins found (search order: --plugin-dir, CUTOVER_PLUGIN_PATH, the plugins folder beside cutover)"
            .into();
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["NAME", "VERSION", "KIND", "STREAMS", "ABI", "SCHEMA", "PATH"]);
    for plugin in &discovery.plugins {
        let metadata = &plugin.metadata;
        let streams: Vec<String> = metadata
            .streams
            .iter()
            .map(|stream| format!("{} ({}, {})", stream.name, stream.entity.as_str(), stream.direction.as_str()))
            .collect();
        table.add_row([
            metadata.name.clone(),
            metadata.version.clone(),
            metadata.kind.as_str().to_owned(),
            streams.join(", "),
            metadata.abi_version.to_string(),
            metadata.schema_version.to_string(),
            plugin.path.display().to_string(),
        ]);
    }
    table.to_string()
}

/// Shows one plugin: its metadata, streams and config schema.
pub fn inspect(plugin: &LoadedPlugin, as_json: bool) -> String {
    let mut details = summary(plugin);
    details["config_schema"] = plugin.metadata.config_schema.clone();
    details["rate_limit"] = json!(plugin.metadata.rate_limit);
    if as_json {
        return details.to_string();
    }
    let metadata = &plugin.metadata;
    let mut text = format!(
        "{} {} ({})\n{}\npath: {}\nabi: {}  schema: {}\n\nstreams:\n",
        metadata.name,
        metadata.version,
        metadata.kind.as_str(),
        metadata.description,
        plugin.path.display(),
        metadata.abi_version,
        metadata.schema_version
    );
    for stream in &metadata.streams {
        text.push_str(&format!("  {:<20} {:<12} {}\n", stream.name, stream.entity.as_str(), stream.direction.as_str()));
    }
    let schema = serde_json::to_string_pretty(&metadata.config_schema).unwrap_or_default();
    text.push_str(&format!("\nconfig schema:\n{schema}"));
    text
}
