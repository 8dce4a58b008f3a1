package server

import (
	"errors"
	"testing"
)

func TestCheckExposure(t *testing.T) {
	tests := map[string]struct {
		addr          string
		authenticated bool
		wantErr       bool
	}{
		"ipv4 loopback":                {addr: "127.0.0.1:9090"},
		"anywhere in 127/8":            {addr: "127.1.2.3:9090"},
		"ipv6 loopback":                {addr: "[::1]:9090"},
		"v4-mapped loopback":           {addr: "[::ffff:127.0.0.1]:9090"},
		"localhost":                    {addr: "localhost:9090"},
		"localhost any case":           {addr: "LocalHost:9090"},
		"every interface":              {addr: ":9090", wantErr: true},
		"ipv4 unspecified":             {addr: "0.0.0.0:9090", wantErr: true},
		"ipv6 unspecified":             {addr: "[::]:9090", wantErr: true},
		"private address":              {addr: "10.0.0.1:9090", wantErr: true},
		"host name":                    {addr: "admin.example.com:9090", wantErr: true},
		"lookalike name":               {addr: "localhost.example.com:9090", wantErr: true},
		"no port":                      {addr: "127.0.0.1", wantErr: true},
		"every interface with auth":    {addr: "0.0.0.0:9090", authenticated: true},
		"host name with auth":          {addr: "admin.example.com:9090", authenticated: true},
		"loopback with auth is fine":   {addr: "127.0.0.1:9090", authenticated: true},
		"ipv6 unspecified with auth":   {addr: "[::]:9090", authenticated: true},
		"private address without auth": {addr: "192.168.1.10:9090", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckExposure(tc.addr, tc.authenticated)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckExposure(%q, %v) = %v, wantErr %v", tc.addr, tc.authenticated, err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrExposed) {
				t.Errorf("error %v is not ErrExposed", err)
			}
		})
	}
}
