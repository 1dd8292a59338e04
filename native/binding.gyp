{
  "targets": [
    {
      "target_name": "visemo_dnnl",
      "sources": [
        "src/module.cc", "src/conv.cc", "src/pool.cc", "src/resize-pad.cc",
        "src/elementwise.cc", "src/reduce.cc", "src/batchnorm.cc", "src/training.cc"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-march=x86-64-v2"]
        }]
      ]
    }
  ]
}
