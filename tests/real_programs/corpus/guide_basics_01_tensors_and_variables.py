# Origin: tensorflow/docs site/en/guide/basics.ipynb, cells i_XKgjDsL4GE, wTBt-JUqLJDJ, SO8_bP4UEzxS, aDLYFvu5FAFa, 9EpiOmxXFDSS
# ("Tensors" conversion, "Variables" assign / assign_add).
# Changes: the notebook's displayed values are printed with repr (as the notebook shows them).
import tensorflow as tf

print(repr(tf.convert_to_tensor([1, 2, 3])))
print(repr(tf.reduce_sum([1, 2, 3])))
var = tf.Variable([0.0, 0.0, 0.0])
print(repr(var.assign([1, 2, 3])))
print(repr(var.assign_add([1, 1, 1])))
