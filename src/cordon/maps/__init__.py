"""Maps: area geometry, the map pages and their layers, the public map (issue 19)."""
