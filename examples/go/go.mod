// The Go binding of libpglift (cgo, no dependencies). The module path is a placeholder: copy the
// package into your tree, or `replace` it with this directory.
module example.com/pglift

go 1.19
