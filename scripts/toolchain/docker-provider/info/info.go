// Package info holds the bridge mapping of the Terraform Docker provider onto
// the Pulumi "docker" package, as the @pulumi/docker SDK expects it: resource
// and function tokens, renamed fields, config defaults and auto-naming.
//
// Only the Terraform-backed part is mapped. The native docker:index/image:Image
// resource of the official plugin is Go code outside Terraform and is absent.
package info

import (
	"unicode"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/terraform-providers/terraform-provider-docker/pulumishim"
)

const (
	pkg = "docker"
	mod = "index"
)

// token builds "docker:index/fooBar:FooBar" (or ":getFoo" for functions).
func token(name string) string {
	file := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return pkg + ":" + mod + "/" + file + ":" + name
}

func resource(name string) tokens.Type { return tokens.Type(token(name)) }

func function(name string) tokens.ModuleMember { return tokens.ModuleMember(token(name)) }

// Provider returns the ProviderInfo. metadata is the bridge-metadata.json that
// tfgen wrote; tfgen itself passes nil and starts from an empty one.
func Provider(version string, metadata []byte) tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(pulumishim.Provider(version)),
		Name:        pkg,
		Version:     version,
		DisplayName: "Docker",
		Description: "A Pulumi package for interacting with Docker in Pulumi programs",
		Keywords:    []string{"pulumi", "docker"},
		License:     "Apache-2.0",
		Publisher:   "Pulumi",
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {
				Default: &tfbridge.DefaultInfo{
					Value:   "unix:///var/run/docker.sock",
					EnvVars: []string{"DOCKER_HOST"},
				},
			},
			"registry_auth": {
				Name:        "registryAuth", // a list, but not pluralised in the SDK
				MaxItemsOne: tfbridge.False(),
			},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: resource("ServiceConfig")},
			"docker_container": {
				Tok:                 resource("Container"),
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"}, // one command, not several
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    resource("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
			"docker_network":        {Tok: resource("Network")},
			"docker_secret":         {Tok: resource("Secret")},
			"docker_service":        {Tok: resource("Service")},
			"docker_volume":         {Tok: resource("Volume")},
			"docker_registry_image": {Tok: resource("RegistryImage")},
			"docker_plugin":         {Tok: resource("Plugin")},
			"docker_tag":            {Tok: resource("Tag")},
			"docker_buildx_builder": {Tok: resource("BuildxBuilder")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":                  {Tok: function("getNetwork")},
			"docker_registry_image":           {Tok: function("getRegistryImage")},
			"docker_registry_image_manifests": {Tok: function("getRegistryImageManifests")},
			"docker_plugin":                   {Tok: function("getPlugin")},
			"docker_image":                    {Tok: function("getRemoteImage")},
			"docker_logs":                     {Tok: function("getLogs")},
		},
	}
	if len(metadata) == 0 {
		metadata = []byte("{}")
	}
	prov.MetadataInfo = tfbridge.NewProviderMetadata(metadata)
	prov.SetAutonaming(255, "-")
	return prov
}
