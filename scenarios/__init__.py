"""Named scenarios: JSON files bundling timings and fault rules, shipped as package data."""
