"""HTTP Open API delivery in the data.go.kr convention (service key, paging, result codes)."""
