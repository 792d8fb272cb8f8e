// Package pulumishim re-exports the upstream Terraform Docker provider.
//
// build-docker-provider.sh copies this file into the local copy of the
// upstream module (as pulumishim/shim.go): living inside that module is what
// lets it import the module's internal/provider package.
package pulumishim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// Provider returns the upstream SDKv2 provider (every resource that the
// Pulumi Docker SDK maps: container, image, network, volume, service, ...).
func Provider(version string) *schema.Provider {
	return provider.New(version)()
}
