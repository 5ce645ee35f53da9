"""Where the projects are: sites (points with a facility type), their GeoJSON, IATI
`<location>` and the map of the corridor."""
