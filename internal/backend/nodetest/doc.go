// Package nodetest runs node scripts that use the reference Socket.IO
// implementations (npm socket.io and socket.io-client) against the Go code,
// for the interoperability tests of the backend packages. The modules come
// from build/node_modules, installed by scripts/npm-testdeps.sh; where node or
// the modules are missing, the tests skip and say how to get them.
package nodetest
