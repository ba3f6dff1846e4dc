# Origin: tensorflow/docs site/en/guide/advanced_autodiff.ipynb, cells tQMndhIUHMes, 1zSl2A5-HhMH, v65OAjEgLQwl, YJLIl9WpHqYq, -5t_q5SfHw7T (batch Jacobian).
# Changes: the two Dense(elu) layers are written out as variables; seeded random inputs; the
# tf.einsum line and the plots are left out; displayed values printed.
import tensorflow as tf

tf.random.set_seed(4)
x = tf.random.normal([7, 5])
kernel1, bias1 = tf.Variable(tf.random.normal([5, 8])), tf.Variable(tf.zeros([8]))
kernel2, bias2 = tf.Variable(tf.random.normal([8, 6])), tf.Variable(tf.zeros([6]))
with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
    tape.watch(x)
    y = tf.nn.elu(x @ kernel1 + bias1)
    y = tf.nn.elu(y @ kernel2 + bias2)
print(y.shape)
j = tape.jacobian(y, x)
print(j.shape)
j_sum = tf.reduce_sum(j, axis=2)
print(j_sum.shape)
jb = tape.batch_jacobian(y, x)
print(jb.shape)
error = tf.reduce_max(abs(jb - j_sum))
assert error < 1e-3
print("error small:", bool(error < 1e-3))
