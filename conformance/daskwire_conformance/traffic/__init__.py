"""Reading real traffic: profile detection, a message stream with offsets, summaries, recordings."""
