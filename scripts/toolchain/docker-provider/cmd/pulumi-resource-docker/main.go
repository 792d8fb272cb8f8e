// pulumi-resource-docker: the bridged Docker provider plugin.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"fleet/docker-provider/info"
)

// version is stamped by the build: -ldflags "-X main.version=5.2.0".
var version = "0.0.0-dev"

// Both files are written by pulumi-tfgen-docker during the build.
var (
	//go:embed schema.json
	schema []byte
	//go:embed bridge-metadata.json
	metadata []byte
)

func main() {
	tfbridge.Main("docker", version, info.Provider(version, metadata), schema)
}
