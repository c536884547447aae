"""Policy files: model, TOML loading, checks and appraisal (policy reads claims, never evidence)."""
