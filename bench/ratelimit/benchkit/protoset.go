package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// benchFiles are the proto files of the services the benchmark calls: the
// rate-limit service Envoy's ratelimit filter calls and the authorization
// service of its ext_authz filter. They are the ones Archway itself is
// built against, so ghz encodes requests exactly as Archway decodes them.
func benchFiles() []protoreflect.FileDescriptor {
	return []protoreflect.FileDescriptor{
		rlsv3.File_envoy_service_ratelimit_v3_rls_proto,
		authv3.File_envoy_service_auth_v3_external_auth_proto,
	}
}

// protoset returns a FileDescriptorSet holding files and everything they
// import, each file after its imports, as protoc --include_imports writes
// it: a client such as ghz can then build every message without any other
// source of descriptors.
func protoset(files ...protoreflect.FileDescriptor) *descriptorpb.FileDescriptorSet {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(protoreflect.FileDescriptor)
	add = func(f protoreflect.FileDescriptor) {
		if seen[f.Path()] {
			return
		}
		seen[f.Path()] = true
		imports := f.Imports()
		for i := range imports.Len() {
			add(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
	}
	for _, f := range files {
		add(f)
	}
	return set
}

// protosetCommand writes the benchmark's protoset to the -o file.
func protosetCommand(_ context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("protoset", flag.ContinueOnError)
	out := fs.String("o", "", "file to write the FileDescriptorSet to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("protoset: -o is required")
	}
	b, err := proto.Marshal(protoset(benchFiles()...))
	if err != nil {
		return fmt.Errorf("protoset: %w", err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("protoset: %w", err)
	}
	return nil
}
