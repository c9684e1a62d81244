// RUN: flash-opt %s --flash-tag-parallel-accesses | FileCheck %s

// The loads and stores of a latch block whose branch names an access group
// in its loop annotation get that group; a loop without one is left alone.
#group = #llvm.access_group<id = distinct[0]<>>
#marked = #llvm.loop_annotation<vectorize = <disable = false>, parallelAccesses = #group>
// CHECK-LABEL: llvm.func @loops
// CHECK: llvm.load %{{.*}} {access_groups = [#[[G:.*]]]}
// CHECK: llvm.store %{{.*}} {access_groups = [#[[G]]]}
// CHECK: llvm.br ^bb1({{.*}}) {loop_annotation = #{{.*}}}
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK-NOT: access_groups
// CHECK: llvm.return
llvm.func @loops(%a: !llvm.ptr, %b: !llvm.ptr, %n: i64) {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  llvm.br ^bb1(%c0 : i64)
^bb1(%i: i64):
  %done = llvm.icmp "sge" %i, %n : i64
  llvm.cond_br %done, ^bb3(%c0 : i64), ^bb2
^bb2:
  %p = llvm.getelementptr %a[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %x = llvm.load %p : !llvm.ptr -> f32
  %q = llvm.getelementptr %b[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %x, %q : f32, !llvm.ptr
  %next = llvm.add %i, %c1 : i64
  llvm.br ^bb1(%next : i64) {loop_annotation = #marked}
^bb3(%j: i64):
  %done2 = llvm.icmp "sge" %j, %n : i64
  llvm.cond_br %done2, ^bb5, ^bb4
^bb4:
  %r = llvm.getelementptr %a[%j] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %y = llvm.load %r : !llvm.ptr -> f32
  llvm.store %y, %r : f32, !llvm.ptr
  %next2 = llvm.add %j, %c1 : i64
  llvm.br ^bb3(%next2 : i64)
^bb5:
  llvm.return
}
