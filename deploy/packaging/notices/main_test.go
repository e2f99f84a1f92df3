package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHolders(t *testing.T) {
	text := `Copyright (c) 2014 Alec Thomas
Copyright 2012-2015 The Prometheus Authors
   Copyright [yyyy] [name of copyright owner]
      (c) You must retain, in the Source form of any Derivative Works
the above copyright notice and this permission notice
Copyright (C) 2014 Alec Thomas
with the additional copyright staring in 2011 when the project was ported over:
© 2020 Someone
`
	got := holders(text)
	want := []string{"2014 Alec Thomas", "2012-2015 The Prometheus Authors", "2020 Someone"}
	if !slices.Equal(got, want) {
		t.Errorf("holders = %q, want %q", got, want)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("The Go module github.com/prometheus/client_golang v1.25.0 is statically linked into /usr/bin/syscheckd.", 40)
	want := "The Go module\ngithub.com/prometheus/client_golang\nv1.25.0 is statically linked into\n/usr/bin/syscheckd."
	if got != want {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

func TestField(t *testing.T) {
	got := field("first\n\n\tindented\nlast  \n\n")
	want := " first\n .\n     indented\n last\n"
	if got != want {
		t.Errorf("field = %q, want %q", got, want)
	}
}

func TestIdentify(t *testing.T) {
	root, err := goroot()
	if err != nil {
		t.Fatal(err)
	}
	goLicense, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := identify(string(goLicense)); err != nil || id != "BSD-3-Clause" {
		t.Errorf("identify(Go's LICENSE) = %q, %v; want BSD-3-Clause", id, err)
	}
	apache, err := os.ReadFile("../../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := identify(string(apache)); err != nil || id != apache20 || !isApache(string(apache)) {
		t.Errorf("identify(syscheckd's LICENSE) = %q, %v; want the Apache License 2.0 as published", id, err)
	}
	if _, err := identify("All rights reserved. Do not copy.\n"); err == nil {
		t.Errorf("identify accepted a text that is no open source license")
	}
}

func TestClassifyWantsALicense(t *testing.T) {
	m := module{Path: "example.org/m", Version: "v1.0.0", Files: []licenseFile{{Rel: "NOTICE", Text: "Copyright 2020 Example\n"}}}
	if err := classify(&m); err == nil || !strings.Contains(err.Error(), "no license file") {
		t.Errorf("classify of a module with only a NOTICE: %v, want a missing license error", err)
	}
}

func TestDEP5(t *testing.T) {
	header := "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2026 Us\nLicense: Apache-2.0\n\nLicense: Apache-2.0\n See /usr/share/common-licenses/Apache-2.0.\n"
	mit := "MIT License\n\nCopyright (c) 2021 Matt Layher\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\nThe above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\nTHE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n"
	m := module{Path: "github.com/mdlayher/socket", Version: "v0.6.0", Files: []licenseFile{
		{Rel: "LICENSE.md", Text: mit},
		{Rel: "NOTICE", Text: "Copyright 2022 Someone Else\n"},
	}}
	if err := classify(&m); err != nil {
		t.Fatal(err)
	}
	std := module{Path: "std", Version: "go1.26.8", Files: []licenseFile{{Rel: "LICENSE", Text: mit, License: "MIT"}}}
	out, err := dep5(header, std, []module{m}, "/usr/bin/x")
	if err != nil {
		t.Fatal(err)
	}
	paras := strings.Split(out, "\n\n")
	if len(paras) != 5 {
		t.Fatalf("%d paragraphs, want 5 (header, Files: *, std, the module, License):\n%s", len(paras), out)
	}
	p := paras[3]
	for _, want := range []string{
		"Files: github.com/mdlayher/socket/*\n",
		"Copyright: 2021 Matt Layher\n 2022 Someone Else\n",
		"License: MIT\n MIT License\n .\n Copyright (c) 2021 Matt Layher\n",
		" The Go module github.com/mdlayher/socket v0.6.0 is statically linked into\n /usr/bin/x.",
		" Its NOTICE:\n .\n Copyright 2022 Someone Else",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("the module's paragraph lacks %q:\n%s", want, p)
		}
	}
	if !strings.HasPrefix(paras[4], "License: Apache-2.0\n") {
		t.Errorf("the stand-alone License paragraph is not last:\n%s", out)
	}
}
