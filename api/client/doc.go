// Package client is the Go client of the ledger's HTTP API, generated from
// api/openapi.yaml by oapi-codegen (the version go.mod pins as a tool). The
// command-line tools reach the server through it; integrators may import it.
//
// client.gen.go is generated: change the spec and run go generate, never the
// file. TestGeneratedClientIsCurrent fails when the two drift apart.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
