module pyrt.dev/pyrt

go 1.22
