// pulumi-tfgen-docker writes schema.json and bridge-metadata.json:
// pulumi-tfgen-docker schema --out DIR --skip-docs --skip-examples
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"fleet/docker-provider/info"
)

var version = "0.0.0-dev"

func main() {
	tfgen.Main("docker", version, info.Provider(version, nil))
}
