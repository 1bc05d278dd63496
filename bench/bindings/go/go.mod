module pyrt.dev/pyrt/bench

go 1.22

require pyrt.dev/pyrt v0.0.0

replace pyrt.dev/pyrt => ../../../bindings/go
