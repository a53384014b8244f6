// Package proto holds the generated wire code of the plugin protocol. It is
// internal: apps and the host's public API use the hand-written types of
// package sdk, so the wire can change without breaking an ISV's code.
package proto

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative plugin.proto
