module github.com/syscheckd/syscheckd/deploy/packaging/notices

go 1.26.8

require github.com/google/licensecheck v0.3.1
