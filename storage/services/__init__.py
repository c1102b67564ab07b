"""Services: plain values in, typed results out; each takes its office and year."""
