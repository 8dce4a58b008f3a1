package admin

import (
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// updatePaths returns the top-level fields an update changes: those the mask
// names, or every mutable field if the mask is empty, as AIP-134 specifies.
// A path that names no field of md, or a field that cannot change (ids,
// timestamps, etags, a stage's name), is a violation of field.
func (v *violations) updatePaths(field string, mask *fieldmaskpb.FieldMask, md protoreflect.MessageDescriptor, mutable []string) []string {
	if len(mask.GetPaths()) == 0 {
		return mutable
	}
	var paths []string
	for _, p := range mask.GetPaths() {
		switch {
		case md.Fields().ByName(protoreflect.Name(p)) == nil:
			v.add(field, "%q is not a field of %s", p, md.Name())
		case !slices.Contains(mutable, p):
			v.add(field, "%q cannot be changed; mutable fields are %v", p, mutable)
		case !slices.Contains(paths, p):
			paths = append(paths, p)
		}
	}
	return paths
}

// applyPaths copies the named top-level fields from src to dst, which must
// be messages of the same type. A field that src lacks is cleared in dst,
// so a mask can remove a value. A path naming a member of a oneof replaces
// the whole oneof: naming http_proxy turns a mock integration into an HTTP
// proxy one.
func applyPaths(dst, src proto.Message, paths []string) {
	// Set shares values with its source; copying from a clone keeps dst
	// independent of the request it was built from.
	d, s := dst.ProtoReflect(), proto.Clone(src).ProtoReflect()
	fields := d.Descriptor().Fields()
	for _, p := range paths {
		fd := fields.ByName(protoreflect.Name(p))
		if fd == nil {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			copyOneof(d, s, od)
			continue
		}
		copyField(d, s, fd)
	}
}

func copyOneof(d, s protoreflect.Message, od protoreflect.OneofDescriptor) {
	if set := d.WhichOneof(od); set != nil {
		d.Clear(set)
	}
	if set := s.WhichOneof(od); set != nil {
		copyField(d, s, set)
	}
}

func copyField(d, s protoreflect.Message, fd protoreflect.FieldDescriptor) {
	if !s.Has(fd) {
		d.Clear(fd)
		return
	}
	d.Set(fd, s.Get(fd))
}
