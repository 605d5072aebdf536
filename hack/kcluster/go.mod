module github.com/purserhq/purser/hack/kcluster

go 1.24.0
